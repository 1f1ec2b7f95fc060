"""Helpers for testing ``omniad watch`` end to end: a writer process, a watcher process, a kill mid-stream.

Shared by the packages whose data can be watched (logs, time series), so each tests its own
streamer against the same live conditions: lines appended by another process while a
watcher in its own process follows them, and a SIGKILL once a checkpoint holds part of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON-line records of an alerts file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def watch_process(model: Path, source: Path, alerts: Path, *extra: str) -> subprocess.Popen[str]:
    """``omniad watch MODEL SOURCE --from begin --alerts ALERTS`` in a fresh process (stderr captured)."""
    return subprocess.Popen([sys.executable, "-m", "omniad", "watch", str(model), str(source), "--from", "begin",
                             "--alerts", str(alerts), "--status-every", "0.5", *extra], cwd=model.parent, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def append_process(lines_file: Path, target: Path, rate: float, chunk: int = 10, *, hold_after: int | None = None,
                   go_on: Path | None = None) -> subprocess.Popen[bytes]:
    """A separate process appending the lines of ``lines_file`` to ``target``, ``chunk`` at a time, at ``rate`` lines/s.

    With ``hold_after``, it stops after that many lines until the file ``go_on`` exists: a test
    that kills a watcher mid-stream then knows the stream is not over, however slowly a busy
    machine starts the watcher (a writer that only sleeps can finish before the watcher reads).
    """
    if (hold_after is None) != (go_on is None):
        raise ValueError("give hold_after and go_on together")
    code = (
        "import os, sys, time\n"
        "lines = open(sys.argv[1], encoding='utf-8').read().splitlines(True)\n"
        "n = int(sys.argv[4]); hold = int(sys.argv[5]); go_on = sys.argv[6]\n"
        "with open(sys.argv[2], 'a', encoding='utf-8') as f:\n"
        "    for i in range(0, len(lines), n):\n"
        "        if hold >= 0 and i >= hold:\n"
        "            while not os.path.exists(go_on): time.sleep(0.05)\n"
        "            hold = -1\n"
        "        f.writelines(lines[i:i + n]); f.flush(); time.sleep(n / float(sys.argv[3]))\n"
    )
    hold = -1 if hold_after is None else hold_after
    return subprocess.Popen([sys.executable, "-c", code, str(lines_file), str(target), str(rate), str(chunk), str(hold),
                             str(go_on or "")])


def kill_after_checkpoint(process: subprocess.Popen[str], checkpoint: Path, at_least: int,
                          timeout: float = 240.0) -> int:
    """SIGKILL ``process`` once its checkpoint records ``at_least`` lines; the lines it recorded then.

    Waits on the checkpoint, not on time, so a busy machine only makes the kill come later
    in the stream, never before the first checkpoint.
    """
    deadline = time.monotonic() + timeout
    lines = 0
    while time.monotonic() < deadline:
        try:
            lines = json.loads(checkpoint.read_text())["lines"]
        except (OSError, ValueError, KeyError):
            lines = 0
        if lines >= at_least:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return lines
