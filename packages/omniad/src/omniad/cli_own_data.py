"""``omniad fit / score / detect``: the command-line face of ``omniad.workflow``.

Kept apart from ``cli.py`` (grids, listings, reports) so each module holds one kind of
command; both share the error handling and exit codes of ``cli.main``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _params(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    from omniad.sources import parse_assignments

    return (parse_assignments(getattr(args, "param", None), "--param"),
            parse_assignments(args.source_param, "--source-param"))


def _default_output(command: str, source: str) -> Path:
    stem = Path(source.rstrip("/")).name.split(".")[0] or "source"
    return Path(f"omniad-{command}-{stem}")


def _show(results: Any, output: Path | None, limit: int = 10) -> None:
    """The flagged samples first (what a user opens the output for), then where everything is."""
    from omniad.cli import _console, _table

    rows = results.samples.rows()
    flagged = [r for r in rows if r.get("decision") == 1]
    ranked = sorted(flagged or rows, key=lambda r: -(r.get("score") or 0.0))[:limit]
    title = (f"{len(flagged)} of {len(rows)} samples flagged" if rows and rows[0].get("decision") is not None
             else f"{len(rows)} samples scored (no thresholds)")
    if results.elements.n_rows:
        title += f"; {results.n_flagged_elements} of {results.elements.n_rows} elements flagged"
    columns = ["sample", "score", "flag", "top elements"]
    table_rows = []
    for r in ranked:
        top = json.loads(r.get("top_elements") or "[]")[:2]
        top_text = "; ".join(", ".join(f"{k}={v}" for k, v in item.items() if k != "score") + f" ({item['score']:.3g})"
                             for item in top)
        name = f"{r['subset']}/{r['sample']}" if r.get("subset") else str(r["sample"])
        flag = "" if r.get("decision") is None else ("ANOMALY" if r["decision"] == 1 else "ok")
        table_rows.append([name, f"{r['score']:.4g}", flag, top_text[:160]])
    if not any(row[-1] for row in table_rows):  # samples without elements (texts, feature vectors)
        columns, table_rows = columns[:-1], [row[:-1] for row in table_rows]
    console = _console()
    console.print(_table(title, columns, table_rows))
    for name, value in results.metrics.items():
        console.print(f"{name}: {value:.4f}", highlight=False)
    if output is not None:
        for name, path in results.files.items():
            console.print(f"{name}: {path}", highlight=False)
        if results.maps:
            console.print(f"maps: {len(results.maps)} files in {output / 'maps'}", highlight=False)
        if results.pictures:
            console.print(f"pictures: {len(results.pictures)} in {output / 'pictures'}", highlight=False)


def cmd_fit(args: argparse.Namespace) -> int:
    from omniad import workflow

    params, source_params = _params(args)
    model = workflow.fit(args.detector, args.source, params=params, threshold=args.threshold, holdout=args.holdout,
                         loader=args.loader, source_params=source_params, seed=args.seed, device=args.device, say=_say)
    out = Path(args.output_dir)
    model.save(out)
    print(f"model: {out}  (score new data with: omniad score {out} NEW_DATA)", file=sys.stderr)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from omniad import workflow

    _, source_params = _params(args)
    out = Path(args.output_dir) if args.output_dir else _default_output("score", args.source)
    results = workflow.score(args.model, args.source, output_dir=out, loader=args.loader,
                             source_params=source_params, pictures=args.pictures, device=args.device, say=_say)
    _show(results, out)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from omniad import workflow

    params, source_params = _params(args)
    out = Path(args.output_dir) if args.output_dir else _default_output("detect", args.source)
    _, results = workflow.detect(
        args.detector, args.source, normal=args.normal, normal_first=args.normal_first,
        contamination=args.contamination, threshold=args.threshold, params=params, output_dir=out,
        loader=args.loader, source_params=source_params, pictures=args.pictures, seed=args.seed,
        device=args.device, say=_say,
    )
    _show(results, out)
    print(f"model: {out / 'model'}  (reuse it with: omniad score {out / 'model'} NEW_DATA)", file=sys.stderr)
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return value


def add_parsers(sub: Any) -> None:
    def source_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--loader", help="dataset id that reads SOURCE (default: picked from the path and printed)")
        p.add_argument("-s", "--source-param", action="append", metavar="NAME=VALUE",
                       help="loader parameter, e.g. -s log_format='<Date> <Time> <Content>' (repeatable)")
        p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")

    def detector_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                       help="detector parameter, e.g. -p n_neighbors=5 (repeatable; values read as JSON)")
        p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("fit", help="fit a detector on your data (a path or a dataset id) and save it with its thresholds")
    p.add_argument("detector", help="detector id, e.g. timeseries.sub_pca (see `omniad list detectors`)")
    p.add_argument("source", help="file or folder (the loader is picked from it), or a dataset id")
    p.add_argument("-o", "--output-dir", required=True, help="folder for the saved model")
    p.add_argument("--threshold", default="quantile:0.99",
                   help="quantile:Q on held-out fit data (default 0.99), contamination:C on all of it, or pot:RISK")
    p.add_argument("--holdout", type=_fraction, default=0.2, help="share of the fit data held out to choose thresholds")
    detector_options(p)
    source_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("score", aliases=["predict"],
                       help="score a file, folder or dataset with a saved model: per-sample and per-element tables")
    p.add_argument("model", help="folder written by `omniad fit` (or Detector.save)")
    p.add_argument("source", help="file or folder (read as the fit data was), or a dataset id")
    p.add_argument("-o", "--output-dir", help="where tables, maps and pictures go (default: ./omniad-score-<source>)")
    p.add_argument("--pictures", type=int, default=8, help="pictures to draw (0: none)")
    source_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("detect", help="one step on unlabelled data: fit (on the normal part, or on all with a "
                                      "contamination share) and score")
    p.add_argument("detector", help="detector id")
    p.add_argument("source", help="file or folder to find anomalies in, or a dataset id")
    p.add_argument("-o", "--output-dir", help="where results and the model go (default: ./omniad-detect-<source>)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--normal", help="another file, folder or dataset id holding normal data to fit on")
    group.add_argument("--normal-first", type=_fraction, metavar="SHARE",
                       help="the leading share of SOURCE is normal (first samples, or first timesteps of a series)")
    group.add_argument("--contamination", type=_fraction,
                       help="share of SOURCE assumed anomalous when no normal part is named (default 0.05)")
    p.add_argument("--threshold", help="with --normal/--normal-first: quantile:Q (default 0.99) or pot:RISK")
    p.add_argument("--pictures", type=int, default=8, help="pictures to draw (0: none)")
    detector_options(p)
    source_options(p)
    p.set_defaults(func=cmd_detect)

