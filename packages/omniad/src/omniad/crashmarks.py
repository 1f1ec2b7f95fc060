"""Crash marks: a process notes what it is doing, so that if it dies without a word the next one can say.

A plugin whose import calls ``os._exit``, or a detector that segfaults inside the runner,
ends the process before any ``except`` or ``atexit`` can print a thing. So before such a
step a small JSON file (``<dir>/<host>-<pid>.json``: pid, host, start, what) is written
and it is removed after. The next process that looks finds the files of processes that no
longer run (same host, pid gone) and reports what they were doing. One file per process,
so concurrent processes never touch each other's; a file is taken (renamed) before it is
reported, so two processes starting together report it once.

Everything here is best effort: a read-only cache or output directory costs the
diagnosis, never the work.

``exits_raise`` goes one step further for the commonest way such code ends a process, a
Python call to ``os._exit``: inside the block it raises ``ExitCalled`` instead, so the same
process can say who called it and go on. Native crashes and kills still need the marks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

#: a foreign mark older than this (another host's, or unreadable) is pruned
MAX_AGE_S = 7 * 24 * 3600.0

_active: set[Path] = set()  # marks this process holds now (forgotten when it is ended deliberately)


def cache_dir() -> Path:
    """``$OMNIAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/omniad``, else ``~/.cache/omniad``."""
    env = os.environ.get("OMNIAD_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omniad"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"


class CrashMark:
    """The mark of this process in ``directory``; ``set`` before a risky step, ``clear`` after."""

    def __init__(self, directory: str | Path, tag: str = "") -> None:
        self.dir = Path(directory)
        self.path = self.dir / f"{_host()}-{os.getpid()}{'-' + tag if tag else ''}.json"
        self._ok = True

    def set(self, **doing: Any) -> None:
        """Say what this process is doing now (replaces what it said before)."""
        if not self._ok:
            return
        data = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), **doing}
        tmp = self.dir / f".tmp-{uuid.uuid4().hex}.json"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, default=str))
            os.replace(tmp, self.path)
            _active.add(self.path)
        except OSError:
            self._ok = False  # not writable: no diagnosis, but the work goes on
            with contextlib.suppress(OSError):
                tmp.unlink()

    def clear(self) -> None:
        _active.discard(self.path)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def dead(self) -> list[dict[str, Any]]:
        """What processes on this host that died while marked were doing; each mark reported once."""
        out: list[dict[str, Any]] = []
        try:
            paths = sorted(self.dir.glob("*.json"))
        except OSError:
            return out
        host = socket.gethostname()
        for path in paths:
            if path in _active or path.name.startswith(".tmp-"):
                continue
            data = _read(path)
            if data is None or data.get("host") != host:
                _prune(path)
                continue
            if _alive(data.get("pid")):
                continue
            taken = self.dir / f".tmp-taken-{uuid.uuid4().hex}.json"
            try:
                os.rename(path, taken)  # another process starting now may be reporting it
            except OSError:
                continue
            with contextlib.suppress(OSError):
                taken.unlink()
            out.append(data)
        return out


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _prune(path: Path) -> None:
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > MAX_AGE_S:
            path.unlink()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():  # a mark of ours left by a process whose pid we now have
        return False
    from omniad.runner.claims import pid_alive  # imported only when a foreign mark exists

    return pid_alive(pid)


def forget_all() -> None:
    """Remove this process's marks: it is being ended on purpose (its parent died), not by its work."""
    for path in list(_active):
        _active.discard(path)
        with contextlib.suppress(OSError):
            path.unlink()


class ExitCalled(BaseException):
    """``os._exit(code)`` called inside ``exits_raise``; a BaseException so ``except Exception`` in
    the caller's code does not swallow it on its way to whoever guarded the call."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"os._exit({code}) was called, which would have ended the whole omniad process")


_real_exit = os._exit
_guarded: set[tuple[int, int]] = set()  # (pid, thread) inside exits_raise
_guard_lock = threading.Lock()


def _exit(status: int) -> NoReturn:
    """``os._exit`` as installed by ``exits_raise``: raises in a guarded thread, exits anywhere else.

    The pid is part of the key so that a child forked from a guarded thread (multiprocessing's
    fork start method ends its children with ``os._exit``) still exits.
    """
    if (os.getpid(), threading.get_ident()) in _guarded:
        raise ExitCalled(status)
    _real_exit(status)


@contextlib.contextmanager
def exits_raise() -> Iterator[None]:
    """While the block runs, ``os._exit`` called from this thread raises ``ExitCalled`` instead.

    Other threads (a worker's parent watch) and forked children keep the real ``os._exit``.
    """
    key = (os.getpid(), threading.get_ident())
    with _guard_lock:
        outer = key not in _guarded  # nested blocks leave the restoring to the outer one
        _guarded.add(key)
        os._exit = _exit  # installed once and left: outside guarded threads it is the real one
    try:
        yield
    finally:
        if outer:
            with _guard_lock:
                _guarded.discard(key)
