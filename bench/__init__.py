"""Benchmarks of ECG Station against named baselines (run each with python -m bench.NAME)."""
