"""Where watched lines come from: a growing file (``tail -F``), standard input, or a folder where files arrive.

Each follower hands out complete lines with where they came from and when they were read,
and keeps its read position so a checkpoint can resume it exactly after a crash. Memory is
bounded whatever the input: a line longer than ``max_line_bytes`` is cut there (the rest is
skipped and counted), binary lines are dropped and counted, and a queue between standard
input and the watcher holds at most ``QUEUE_LINES`` lines (the writer waits, nothing is lost).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, BinaryIO

from omniad.errors import DataError

#: bytes read per system call
CHUNK = 1 << 16
#: a line longer than this is cut (the watcher never holds more of one line)
MAX_LINE_BYTES = 1 << 20
#: lines waiting between the standard-input reader thread and the watcher
QUEUE_LINES = 10_000
#: how often a folder is listed for new files, seconds
LIST_EVERY = 0.5


@dataclass(slots=True)
class Line:
    """One line as read: its text (decoded, no line end), its file, its 1-based number there, when it was read."""

    text: str
    source: str
    number: int
    arrived: float


def decode(raw: bytes, counts: Counter[str]) -> str | None:
    """The text of one raw line, or None for a binary one (NUL bytes, or mostly undecodable); both counted."""
    if b"\x00" in raw:
        counts["binary_lines"] += 1
        return None
    try:  # the common case, without scanning for replacement characters
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    if "\ufffd" in text:
        bad = text.count("\ufffd")
        if bad * 4 > len(text):
            counts["binary_lines"] += 1
            return None
        counts["lines_with_bad_utf8"] += 1
    return text


class Splitter:
    """Bytes in, complete lines out; a line over ``max_line_bytes`` is cut and the rest of it skipped."""

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max = max_line_bytes
        self.partial = bytearray()
        self.skipping = False

    def feed(self, data: bytes, counts: Counter[str]) -> list[tuple[bytes | None, int, bool]]:
        """Complete lines in ``data``, each with the bytes it consumed (line end included) and whether
        what follows is still the skipped tail of a cut line (a read position there must say so).

        ``(None, n, ...)``: ``n`` bytes of the skipped tail of a cut line. A partial last line is
        kept (and consumes nothing) until its line end arrives.
        """
        out: list[tuple[bytes | None, int, bool]] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            piece = data[start:nl]
            consumed = nl + 1 - start
            if self.skipping:
                self.skipping = False
                out.append((None, consumed, False))
            else:
                if self.partial:
                    piece = bytes(self.partial) + piece
                    consumed += len(self.partial)
                    self.partial.clear()
                if len(piece) > self.max:
                    counts["long_lines_cut"] += 1
                    piece = piece[: self.max]
                out.append((piece, consumed, False))
            start = nl + 1
        rest = data[start:]
        if self.skipping:
            if rest:
                out.append((None, len(rest), True))
        elif rest:
            self.partial += rest
            if len(self.partial) > self.max:  # hand out the head now, skip the rest of this line
                counts["long_lines_cut"] += 1
                out.append((bytes(self.partial[: self.max]), len(self.partial), True))
                self.partial.clear()
                self.skipping = True
        return out


class Follower:
    """What the watcher reads from. ``exhausted``: no more lines will ever come (end of standard input)."""

    exhausted = False

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def poll(self, limit: int) -> list[Line]:
        raise NotImplementedError

    def position(self) -> dict[str, Any] | None:
        """Where to resume (JSON), or None where the source cannot be resumed (standard input)."""
        return None

    def restore(self, position: dict[str, Any] | None) -> None:
        """Resume at ``position`` (from ``position()`` of an earlier run)."""

    def describe(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release files and threads."""


class FileFollower(Follower):
    """One file, followed like ``tail -F``: across rotation (a new file at the path), truncation and absence."""

    def __init__(self, path: str | Path, *, name: str | None = None, start: str = "end",
                 max_line_bytes: int = MAX_LINE_BYTES) -> None:
        super().__init__()
        if start not in ("begin", "end"):
            raise DataError(f"start={start!r}: use 'begin' (read the file from its first line) or 'end' (only new lines)")
        self.path = Path(path)
        self.name = name or self.path.name
        self.start = start
        self.max_line_bytes = max_line_bytes
        self.fh: BinaryIO | None = None
        self.ident: tuple[int, int] | None = None
        self.offset = 0  # bytes up to the end of the last complete line handed out
        self.read_pos = 0  # bytes read (the partial line too)
        self.lineno = 0
        self.splitter = Splitter(max_line_bytes)
        # lines read but not yet handed out (at most one chunk's worth): (line or None when binary, offset
        # after it, its number, whether that offset is inside the skipped tail of a cut line)
        self.pending: deque[tuple[Line | None, int, int, bool]] = deque()
        self.in_cut = False
        self.scan_offset = 0
        self.scan_lineno = 0
        self.missing = False
        self._resume: dict[str, Any] | None = None

    def describe(self) -> str:
        return str(self.path)

    # -- position ------------------------------------------------------------------------
    def position(self) -> dict[str, Any] | None:
        if self.ident is None:
            return self._resume
        return {"path": str(self.path), "dev": self.ident[0], "ino": self.ident[1], "offset": self.offset,
                "lineno": self.lineno, "in_cut_line": self.in_cut}

    def restore(self, position: dict[str, Any] | None) -> None:
        if position is None:
            return
        if not isinstance(position, dict) or not all(isinstance(position.get(k), int) for k in
                                                       ("dev", "ino", "offset", "lineno")):
            raise DataError(f"the checkpoint's read position of {self.path} is not usable ({position!r:.80}); "
                            "delete the checkpoint to start afresh")
        self._resume = position

    # -- reading -------------------------------------------------------------------------
    def _open(self) -> bool:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open while followed
        except FileNotFoundError:
            if not self.missing:
                self.missing = True
                self.counts["file_missing"] += 1
            return False
        except OSError as exc:
            raise DataError(f"{self.path}: cannot be read ({exc.strerror or exc}); check its permissions") from None
        st = os.fstat(fh.fileno())
        appeared = self.missing  # created after the watch began: all of it is new (as with tail -F)
        self.fh, self.ident, self.missing = fh, (st.st_dev, st.st_ino), False
        resume, self._resume = self._resume, None
        if resume is not None and (resume["dev"], resume["ino"]) == self.ident and st.st_size >= resume["offset"]:
            self._seek(resume["offset"], resume["lineno"])
            self.splitter.skipping = self.in_cut = bool(resume.get("in_cut_line", False))
        elif resume is not None:  # replaced or truncated while the watcher was down: read the new file whole
            self.counts["file_replaced_while_stopped"] += 1
            self._seek(0, 0)
        elif self.start == "end" and not appeared:
            self._seek(self._last_line_end(st.st_size), 0)
        else:
            self._seek(0, 0)
        return True

    def _last_line_end(self, size: int) -> int:
        """The offset just after the last line end at or before ``size`` (0 when none)."""
        assert self.fh is not None
        pos = size
        while pos > 0:
            step = min(CHUNK, pos)
            self.fh.seek(pos - step)
            block = self.fh.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                return pos - step + nl + 1
            pos -= step
        return 0

    def _seek(self, offset: int, lineno: int) -> None:
        assert self.fh is not None
        self.fh.seek(offset)
        self.offset = self.read_pos = self.scan_offset = offset
        self.lineno = self.scan_lineno = lineno
        self.splitter = Splitter(self.max_line_bytes)
        self.pending.clear()
        self.in_cut = False

    def _lines(self, data: bytes) -> None:
        """Split ``data`` into lines waiting to be handed out, each with the position just after it."""
        now = time.time()
        for raw, used, cut in self.splitter.feed(data, self.counts):
            self.scan_offset += used
            if raw is None:  # the tail of a cut line: only bytes
                if self.pending:
                    line, _, lineno, _ = self.pending[-1]
                    self.pending[-1] = (line, self.scan_offset, lineno, cut)
                else:
                    self.offset, self.in_cut = self.scan_offset, cut
                continue
            self.scan_lineno += 1
            text = decode(raw, self.counts)
            line = Line(text, self.name, self.scan_lineno, now) if text is not None else None
            self.pending.append((line, self.scan_offset, self.scan_lineno, cut))

    def _finish_partial(self) -> None:
        """A last line without a line end, when its file is left for good (its position excludes the missing end)."""
        if self.splitter.partial:
            self._lines(b"\n")
            line, offset, lineno, cut = self.pending[-1]
            self.pending[-1] = (line, offset - 1, lineno, cut)
            self.scan_offset -= 1

    def _hand_out(self, out: list[Line], limit: int) -> None:
        while self.pending and len(out) < limit:
            line, self.offset, self.lineno, self.in_cut = self.pending.popleft()
            if line is not None:
                out.append(line)

    def poll(self, limit: int = 4096) -> list[Line]:
        """At most ``limit`` lines; what was read beyond them waits, so the read position stays exact."""
        out: list[Line] = []
        if self.fh is None and not self._open():
            return out
        assert self.fh is not None
        while len(out) < limit:
            if self.pending:
                self._hand_out(out, limit)
                continue
            data = self.fh.read(CHUNK)
            if data:
                self.read_pos += len(data)
                self._lines(data)
                continue
            if not self._at_end() or self.fh is None:  # nothing new (nothing is pending here either)
                break
        return out

    def _at_end(self) -> bool:
        """Everything read: look for rotation, truncation or absence of the file; True when reading starts anew."""
        assert self.fh is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not self.missing:
                self.missing = True
                self.counts["file_vanished"] += 1
            return False
        self.missing = False
        if (st.st_dev, st.st_ino) != self.ident:  # rotated: the old file is read to its end, then the new one
            self._finish_partial()
            if self.pending:  # hand out the old file's last line before switching
                return True
            self.fh.close()
            self.fh, self.ident = None, None
            self.counts["rotations"] += 1
            start, self.start = self.start, "begin"
            self._open()
            self.start = start
            return True
        if st.st_size < self.read_pos:  # truncated in place (copytruncate, `> file`)
            self.counts["truncations"] += 1
            self._seek(0, 0)
            return True
        return False

    def close(self) -> None:
        if self.splitter.partial:  # said at the stop: it is read (whole) by the next watch once its line ends
            self.counts["unfinished_last_line"] += 1
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class StdinFollower(Follower):
    """Standard input, read by a thread into a bounded queue so the watcher never blocks on it."""

    def __init__(self, stream: BinaryIO | None = None, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_LINES)
        self.lineno = 0
        self.max_line_bytes = max_line_bytes
        self.thread = threading.Thread(target=self._pump, name="omniad-watch-stdin", daemon=True)
        self.thread.start()

    def describe(self) -> str:
        return "standard input"

    def _pump(self) -> None:
        splitter = Splitter(self.max_line_bytes)
        try:
            while True:
                data = self.stream.read1(CHUNK) if hasattr(self.stream, "read1") else self.stream.read(CHUNK)
                if not data:
                    break
                for raw, _, _ in splitter.feed(data, self.counts):
                    if raw is not None:
                        self.queue.put(raw)
            if splitter.partial:
                self.queue.put(bytes(splitter.partial))
        finally:
            self.queue.put(None)

    def poll(self, limit: int = 4096) -> list[Line]:
        out: list[Line] = []
        now = time.time()
        while len(out) < limit:
            try:
                raw = self.queue.get_nowait()
            except queue.Empty:
                break
            if raw is None:
                self.exhausted = True
                break
            self.lineno += 1
            text = decode(raw, self.counts)
            if text is not None:
                out.append(Line(text, "-", self.lineno, now))
        return out


class FolderFollower(Follower):
    """A folder where files arrive: each file matching ``pattern`` is read from its start, oldest first.

    Files are told apart by name; a file that disappears is read to its end and forgotten.
    """

    def __init__(self, folder: str | Path, pattern: str = "*", max_line_bytes: int = MAX_LINE_BYTES) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.pattern = pattern
        self.max_line_bytes = max_line_bytes
        self.files: dict[str, FileFollower] = {}
        self.saved: dict[str, Any] = {}
        self._listed = 0.0

    def describe(self) -> str:
        return f"{self.folder}/{self.pattern}"

    def _list(self) -> None:
        now = time.monotonic()
        if now - self._listed < LIST_EVERY and self.files:
            return
        self._listed = now
        try:
            entries = [e for e in os.scandir(self.folder) if e.is_file() and fnmatch(e.name, self.pattern)]
        except FileNotFoundError:
            self.counts["folder_missing"] += 1
            return
        entries.sort(key=lambda e: (e.stat().st_mtime, e.name))
        for e in entries:
            if e.name not in self.files:
                f = FileFollower(e.path, name=e.name, start="begin", max_line_bytes=self.max_line_bytes)
                f.restore(self.saved.pop(e.name, None))
                self.files[e.name] = f
                self.counts["files_seen"] += 1

    def poll(self, limit: int = 4096) -> list[Line]:
        self._list()
        out: list[Line] = []
        for name, f in list(self.files.items()):
            out.extend(f.poll(limit - len(out)))
            if f.missing:  # gone: read to its end above; forget it
                f.close()
                del self.files[name]
            if len(out) >= limit:
                break
        return out

    def counts_total(self) -> Counter[str]:
        total = Counter(self.counts)
        for f in self.files.values():
            total.update(f.counts)
        return total

    def position(self) -> dict[str, Any] | None:
        return {"files": {name: f.position() for name, f in self.files.items() if f.position() is not None}}

    def restore(self, position: dict[str, Any] | None) -> None:
        if position is None:
            return
        files = position.get("files") if isinstance(position, dict) else None
        if not isinstance(files, dict):
            raise DataError("the checkpoint's folder position is not usable; delete the checkpoint to start afresh")
        self.saved = dict(files)

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def follower_counts(follower: Follower) -> Counter[str]:
    return follower.counts_total() if isinstance(follower, FolderFollower) else follower.counts


def open_follower(source: str, *, start: str = "end", pattern: str = "*",
                  max_line_bytes: int = MAX_LINE_BYTES) -> Follower:
    """``-`` is standard input, a folder is watched for files, anything else is a file (which may not exist yet)."""
    if source == "-":
        return StdinFollower(max_line_bytes=max_line_bytes)
    path = Path(source).expanduser()
    if path.is_dir():
        return FolderFollower(path, pattern, max_line_bytes=max_line_bytes)
    if not path.parent.exists():
        raise DataError(f"{source}: its folder {path.parent} does not exist; check the path")
    return FileFollower(path, start=start, max_line_bytes=max_line_bytes)
