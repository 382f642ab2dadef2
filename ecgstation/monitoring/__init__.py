"""Live monitoring (Qt-free): display buffers per bed, 10 s slices persisted and analysed, alarms."""
