"""File suffixes of frame images and video files, in one place for the decoders, the loaders' cards and their
probes (imports nothing, so registering cards stays cheap)."""

from __future__ import annotations

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv")
