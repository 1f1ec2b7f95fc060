"""Where alerts go: JSON lines on standard output, or appended to a file that checkpoints can cut back."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any

from omniad.errors import DataError


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


class AlertSink:
    """Appends one JSON object per line; ``sync`` makes what was written durable and says how long the file is."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.written = 0
        self.fh: IO[str]
        if path is None:
            self.fh = sys.stdout
            return
        try:
            self.fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open while watching
        except OSError as exc:
            raise DataError(f"alerts file {path}: cannot be opened for appending ({exc.strerror or exc})") from None

    def resume(self, size: int) -> str | None:
        """Cut the alert file back to the checkpoint's ``size``; a note when the file is not as the checkpoint left it."""
        if self.path is None:
            return None
        current = self.path.stat().st_size if self.path.exists() else 0
        if current > size:
            self.fh.flush()
            os.truncate(self.path, size)
            return f"{current - size} bytes of alerts written after the last checkpoint were cut; they are replayed"
        if current < size:
            return (f"the alerts file is shorter than the checkpoint says ({current} < {size} bytes): "
                    "it was edited or replaced; appending to it")
        return None

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        self.fh.write("".join(json.dumps(_plain(r), ensure_ascii=False, separators=(",", ":")) + "\n"
                              for r in records))
        self.written += len(records)
        if self.path is None:
            self.fh.flush()

    def sync(self) -> int:
        """Flush to disk; the file's size in bytes (0 for standard output)."""
        self.fh.flush()
        if self.path is None:
            return 0
        os.fsync(self.fh.fileno())
        return self.path.stat().st_size

    def close(self) -> None:
        if self.path is not None:
            self.fh.close()
