"""``omniad watch MODEL SOURCE``: the command-line face of ``omniad.watch`` (live logs and metrics)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_watch(args: argparse.Namespace) -> int:
    from omniad.sources import parse_assignments
    from omniad.watch import watch

    options = parse_assignments(args.set, "--set")
    summary = watch(
        args.model, args.source, alerts=args.alerts, checkpoint=args.checkpoint, every=args.every,
        start=args.start, pattern=args.pattern, max_lines=args.max_lines, until=args.until, options=options,
        status_every=args.status_every, checkpoint_every=args.checkpoint_every, device=args.device,
        say=lambda m: print(m, file=sys.stderr, flush=True),
    )
    return 0 if summary.stopped_by != "error" else 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "watch", help="score a live log or metric stream with a saved model: one JSON line per alert",
        description="Follow SOURCE (a growing file like tail -F, '-' for standard input, or a folder where files "
                    "arrive) and score each line with a model saved by `omniad fit`. Alerts are JSON lines; a "
                    "status line goes to stderr. Ctrl-C stops cleanly.")
    p.add_argument("model", help="folder written by `omniad fit` (a logs or time-series model)")
    p.add_argument("source", help="file to follow, '-' for standard input, or a folder where files arrive")
    p.add_argument("--alerts", help="append alerts to this file (default: standard output); makes restarts exact")
    p.add_argument("--checkpoint", help="checkpoint file (default: ALERTS.checkpoint when --alerts is given)")
    p.add_argument("--every", action="store_true", help="also write every score, not only alerts")
    p.add_argument("--from", dest="start", choices=["end", "begin"], default="end",
                   help="where to start in a file without a checkpoint: only new lines (end, like tail -F) or begin")
    p.add_argument("--pattern", default="*", help="with a folder: which file names to read (glob, default *)")
    p.add_argument("--max-lines", type=int, help="stop after this many lines (binary lines are dropped and do not count)")
    p.add_argument("--until", help="stop after a duration (90s, 15m, 2h) or at a date-time (2026-12-05T18:00)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="streamer option, e.g. --set max_sessions=5000 (see docs/watch.md; repeatable)")
    p.add_argument("--status-every", type=float, default=5.0, help="seconds between status lines on stderr")
    p.add_argument("--checkpoint-every", type=float, default=5.0,
                   help="seconds between checkpoints (a crash replays at most this much of the source; alerts are never lost)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(func=cmd_watch)
