"""Pure core: recording model, signal processing and analysis (numpy/scipy only)."""
