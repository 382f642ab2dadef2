"""ECG sources: Bluetooth LE patches (bleak), a simulated patch and file replay (Qt-free, asyncio).

Every source yields the same events (:mod:`ecgstation.devices.events`): timestamped sample
chunks in mV and status events (connected, waiting for ECG, lead-off, battery, gap,
disconnected, ...). Decoders of the vendors' byte frames are pure functions, tested with
frames built from the published layouts.
"""
