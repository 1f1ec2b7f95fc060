"""Live log scoring for ``omniad watch`` (``LogStreamer``, opened through ``LogDataset.watcher``)."""
