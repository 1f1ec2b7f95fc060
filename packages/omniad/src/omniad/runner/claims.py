"""Job claims: how several runners share one output directory without running a job twice.

Before a runner starts a job it creates ``<output>/claims/<key>.json`` with
``O_CREAT | O_EXCL`` (atomic on local filesystems), holding its pid, host, a random token
and an expiry. The claim is removed once the job's record is written. A claim is honoured
while its owner lives: a claim whose owner is gone (same host, pid not running) or whose
lease ran out (owner on another host that stopped renewing) is taken over. A runner renews
the leases it holds from a background thread, so a long job keeps its claim however long
it runs, and a killed runner's claims expire by themselves.

A claim's file says when it expires, but the file is not trusted to say so for ever: a live
runner rewrites its claims every ``RENEW_S``, so a claim file not rewritten for a lease (its
mtime) is stale whatever its ``expires_at`` says, and one whose ``expires_at`` lies more than
a lease ahead was not written by a runner at all (a hand-made or copied file) and is void.
Without that, a claim naming a live pid (say 1) with a far-future expiry would hold its job
back in every run, each ending with exit 0.

Nor is a live pid trusted to be the runner that wrote the claim: pids are reused, and a copied
or hand-made claim may name any process. A runner records its process start time
(``proc_start``, from ``/proc``), and a claim whose pid now belongs to a process started at
another time is stale. A claim without one (not written by a runner of this omniad) counts
only if its pid runs Python or omniad: init (pid 1 on a host), a shell or a daemon is no runner.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniad.errors import OmniadError

#: how long a claim stays valid without renewal; generous, since only crashed runners stop renewing
LEASE_S = 600.0
#: how often a live runner renews the claims it holds
RENEW_S = 60.0
#: how long an unreadable claim file is honoured (its owner may be writing it right now)
UNREADABLE_GRACE_S = 5.0
#: clock skew and renewal delay tolerated between hosts before a claim's age or expiry counts against it
SLACK_S = RENEW_S


@dataclass(frozen=True)
class Owner:
    """Who holds a claim, as read from its file."""

    pid: int
    host: str
    started_at: float
    expires_at: float
    token: str
    #: when the claim file was last written (its mtime); None where unknown
    written_at: float | None = None
    #: the owner's process start time as its runner read it (``proc_start``); None where not recorded
    proc_start: str | None = None

    def describe(self) -> str:
        return f"pid {self.pid}, host {self.host}" if self.pid > 0 else "unknown: its claim file is unreadable"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (zombies count as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill would terminate it; rely on the lease there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def proc_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc); None where unknown.

    Two processes that share a pid one after the other never share a start time, so this tells
    the runner that wrote a claim from whatever process has its pid now.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


#: what the command line of a process that may be a runner mentions (``omniad``, ``python -m pytest``, ...)
_RUNNER_CMDLINE = re.compile(r"python|omniad|pytest|jupyter", re.IGNORECASE)


def could_be_runner(pid: int) -> bool:
    """Whether live process ``pid`` may be an omniad runner: its command line runs Python or omniad.

    True where the command line cannot be read (no /proc, another user's process hidden): the
    lease then decides. An empty command line is a kernel thread.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except PermissionError:
        return True
    except OSError:
        return not Path("/proc/self/cmdline").exists()  # no /proc here: cannot tell
    return bool(_RUNNER_CMDLINE.search(cmdline.replace(b"\0", b" ").decode("utf-8", "replace")))


def _read_owner(path: Path) -> Owner | None:
    """The claim's owner; None when the file is gone. An unreadable claim is treated as stale."""
    try:
        written = path.stat().st_mtime
        data = json.loads(path.read_text())
        start = data.get("proc_start")
        return Owner(int(data["pid"]), str(data["host"]), float(data["started_at"]),
                     float(data["expires_at"]), str(data["token"]), written,
                     str(start) if start is not None else None)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # junk, or a claim torn by a runner killed while writing it; honoured for a few seconds
        # in case its owner created it a moment ago and is still writing
        try:
            made = path.stat().st_mtime
        except OSError:
            made = 0.0
        return Owner(-1, "?", made, made + UNREADABLE_GRACE_S, "")


class Claims:
    """The claims of one runner in ``<output>/claims``; renews its leases while alive."""

    def __init__(self, root: str | Path, *, lease_s: float = LEASE_S, renew_s: float = RENEW_S) -> None:
        self.dir = Path(root) / "claims"
        self.lease_s = lease_s
        self.renew_s = renew_s
        self.pid = os.getpid()
        self.proc_start = proc_start(self.pid)
        self.host = socket.gethostname()
        self.token = uuid.uuid4().hex
        self._held: dict[str, float] = {}  # key -> started_at
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def is_stale(self, owner: Owner) -> bool:
        """Whether ``owner``'s claim may be taken over: expired, not renewed, void, or its owner gone."""
        if owner.token == self.token:
            return False
        now = time.time()
        lease = max(self.lease_s, LEASE_S)  # the longest lease a runner writes (another may use the default)
        if now > owner.expires_at or owner.expires_at > now + lease + SLACK_S:
            return True  # ran out, or an expiry no runner writes
        if owner.written_at is not None and now > owner.written_at + lease + SLACK_S:
            return True  # nobody renewed it for a whole lease
        return owner.host == self.host and not self._owner_runs(owner)

    @staticmethod
    def _owner_runs(owner: Owner) -> bool:
        """Whether the process that wrote ``owner``'s claim (on this host) still runs."""
        if not pid_alive(owner.pid):
            return False
        if owner.proc_start is not None:
            now = proc_start(owner.pid)
            return now is None or now == owner.proc_start  # another start time: the pid was reused
        return could_be_runner(owner.pid)

    def _payload(self, key: str, started_at: float) -> str:
        return json.dumps({"key": key, "pid": self.pid, "proc_start": self.proc_start, "host": self.host,
                           "token": self.token, "started_at": started_at, "expires_at": time.time() + self.lease_s})

    def _create(self, key: str, started_at: float) -> bool:
        try:
            fd = os.open(self.path(key), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(self._payload(key, started_at))
        return True

    def acquire(self, key: str) -> Owner | None:
        """Claim ``key``; None on success, else the live owner that holds it."""
        started = time.time()
        for _ in range(5):  # a takeover race lost to another runner: look again
            try:
                if self._create(key, started):
                    with self._lock:
                        self._held[key] = started
                    return None
            except OSError as exc:
                raise OmniadError(f"cannot create claim {self.path(key)}: {exc.strerror or exc}; "
                                  "check that the output directory is writable") from None
            owner = _read_owner(self.path(key))
            if owner is None:
                continue  # released between our attempt and the read
            if not self.is_stale(owner):
                return owner
            self._take_over(key, owner)
        return _read_owner(self.path(key)) or Owner(-1, "?", started, started + UNREADABLE_GRACE_S, "")

    def _take_over(self, key: str, stale: Owner) -> None:
        """Move a stale claim aside, but only if it is still the stale one we read."""
        aside = self.dir / f".stale-{key}-{uuid.uuid4().hex}.json"
        try:
            os.rename(self.path(key), aside)
        except FileNotFoundError:
            return  # someone else moved it first
        moved = _read_owner(aside)
        if moved is not None and moved.token != stale.token and not self.is_stale(moved):
            # a live runner re-claimed it between our read and the rename: give it back
            with contextlib.suppress(OSError):
                os.link(aside, self.path(key))
        aside.unlink(missing_ok=True)

    def release(self, key: str) -> None:
        """Remove our claim on ``key`` (a claim taken over by someone else is left alone)."""
        with self._lock:
            self._held.pop(key, None)
        owner = _read_owner(self.path(key))
        if owner is not None and owner.token == self.token:
            self.path(key).unlink(missing_ok=True)

    def release_all(self) -> None:
        with self._lock:
            keys = list(self._held)
        for key in keys:
            self.release(key)

    def renew(self) -> None:
        """Push the expiry of every claim we hold forward by a lease."""
        with self._lock:
            held = dict(self._held)
        for key, started in held.items():
            owner = _read_owner(self.path(key))
            if owner is None or owner.token != self.token:
                continue  # released meanwhile, or taken over after our lease ran out
            tmp = self.dir / f".renew-{key}-{self.token}.json"
            try:
                tmp.write_text(self._payload(key, started))
                os.replace(tmp, self.path(key))
            except OSError:
                tmp.unlink(missing_ok=True)  # retried at the next renewal

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_s):
            self.renew()

    def __enter__(self) -> Claims:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._renew_loop, name="omniad-claims", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.release_all()
