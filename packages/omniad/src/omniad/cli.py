"""The ``omniad`` command line.

Kept to argparse and lazy imports so that ``omniad --help`` and ``omniad list`` start in
a fraction of a second: listing components reads cards, it never imports torch.
Errors caused by the user print as one line (``error: ...``) and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from omniad.errors import OmniadError

KIND_ALIASES = {"detectors": "detector", "datasets": "dataset", "metrics": "metric",
                "detector": "detector", "dataset": "dataset", "metric": "metric"}


def _console() -> Any:
    from rich.console import Console

    # In a pipe or CI log rich would wrap at 80 columns; results tables need more.
    return Console(width=None if sys.stdout.isatty() else 200)


def _table(title: str, columns: list[str], rows: list[list[str]], wrap: tuple[str, ...] = (),
           widths: list[int] | None = None) -> Any:
    """A table whose cells never wrap (ids, numbers) except in the ``wrap`` columns (summaries, errors);
    ``widths`` fixes each column's width (see ``_fitted``)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None, show_lines=False, header_style="bold")
    for i, col in enumerate(columns):
        if widths:  # wide enough for every cell outside ``wrap``: only headers and ``wrap`` cells wrap
            table.add_column(escape(col), overflow="fold", width=widths[i])
        elif col in wrap:
            table.add_column(escape(col), overflow="fold")
        else:
            table.add_column(escape(col), no_wrap=True)
    for row in rows:
        table.add_row(*[escape(cell) for cell in row])  # a summary or label may hold "[...]": it is no markup
    return table


def _widths(columns: list[str], rows: list[list[str]], wrap: tuple[str, ...], least: dict[str, int],
            width: int) -> list[int] | None:
    """Column widths that fit ``width`` (None if none do): cells of other columns than ``wrap`` keep one
    line; headers may wrap at spaces; ``wrap`` columns and headers shrink, widest excess first, down to
    ``least`` (the ``wrap`` columns) or their longest word (the headers)."""
    natural = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    floor = [min(natural[i], least.get(c, 24)) if c in wrap else
             max([len(w) for w in c.split()] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    room = width - (3 * len(columns) + 1)  # padding and rules of rich's default box
    if sum(floor) > room:
        return None
    out = list(natural)
    for _ in range(max(0, sum(out) - room)):
        i = max(range(len(out)), key=lambda k: out[k] - floor[k])
        out[i] -= 1
    return out


def _fitted(console: Any, title: str, columns: list[str], rows: list[list[str]], optional: list[int],
            wrap: tuple[str, ...] = (), least: dict[str, int] | None = None) -> tuple[Any, list[str]]:
    """The table for ``console``'s width: the ``optional`` columns (indices, least wanted first) are left
    out, one at a time, until it fits; returns it and the headers left out."""
    keep = list(range(len(columns)))
    dropped: list[str] = []
    for index in [None, *optional]:
        if index is not None:
            keep.remove(index)
            dropped.append(columns[index])
        cols, cells = [columns[i] for i in keep], [[row[i] for i in keep] for row in rows]
        widths = _widths(cols, cells, wrap, least or {}, console.width)
        if widths is not None:
            return _table(title, cols, cells, wrap, widths), dropped
    return _table(title, cols, cells, wrap), dropped  # narrower than anything: rich crops


def cmd_plugins(args: argparse.Namespace) -> int:
    from omniad.plugins import get_plugin_manager, get_registry

    manager = get_plugin_manager()
    get_registry()  # registration errors are recorded on the plugin infos
    infos = sorted(manager.plugins.values(), key=lambda p: (p.status != "builtin", p.name))
    if args.json:
        print(json.dumps([p.to_dict() for p in infos], indent=1))
        return 0
    rows = []
    for p in infos:
        counts = ", ".join(f"{len(v)} {k}s" for k, v in sorted(p.components.items())) or "—"
        status = p.status if not p.error else f"{p.status}: {p.error}"
        prefixes = ", ".join(p.prefixes) or "—"
        rows.append([p.name, p.distribution or "—", p.version or "—", prefixes, counts, status])
    columns = ["plugin", "distribution", "version", "id prefixes", "components", "status"]
    _console().print(_table("omniad plugins", columns, rows, wrap=("id prefixes", "components", "status")))
    return 1 if args.strict and any(p.status == "failed" for p in infos) else 0


def _warn_broken_plugins() -> None:
    """One stderr line per failed plugin: a listing that silently lacks its ids misleads."""
    from omniad.plugins import get_plugin_manager

    for info in sorted(get_plugin_manager().plugins.values(), key=lambda p: p.name):
        if info.status == "failed":
            print(
                f"warning: plugin {info.name!r} {info.status}, none of its components are listed "
                f"({info.error}); run `omniad plugins` for details",
                file=sys.stderr,
            )


def cmd_list(args: argparse.Namespace) -> int:
    from omniad.plugins import get_registry

    kind = KIND_ALIASES.get(args.kind) if args.kind else None
    if args.kind and kind is None:
        raise OmniadError(f"unknown kind {args.kind!r}; use detectors, datasets or metrics")
    entries = get_registry().list(kind, modality=args.modality)  # type: ignore[arg-type]
    _warn_broken_plugins()
    if args.json:
        print(json.dumps([{**e.card.model_dump(mode="json"), "kind": e.kind, "plugin": e.plugin,
                           "needs": e.missing_installs()} for e in entries], indent=1))
        return 0
    # a component whose optional dependency is missing stays listed, marked with what to pip install
    rows = [[e.id, e.kind, e.card.modality, e.plugin,
             "".join(f"[needs {pip}] " for pip in e.missing_installs()) + e.card.summary] for e in entries]
    columns = ["id", "kind", "modality", "plugin", "summary"]
    optional = [3, 2] if kind is None else [1, 3, 2]  # plugin, then modality (the kind when only one is listed)
    console = _console()
    table, dropped = _fitted(console, f"{len(entries)} components", columns, rows, optional, wrap=("summary",),
                             least={"summary": 24})
    console.print(table)
    left_out = [c for c in dropped if c != "kind" or kind is None]
    if left_out:
        console.print(f"({', '.join(left_out)} left out at this width; `omniad list --json` has every field)",
                      highlight=False)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from omniad.plugins import get_registry

    registry = get_registry()
    matches = [e for e in registry.list() if e.id == args.id]
    if not matches:
        import difflib

        from omniad.errors import UnknownComponentError

        close = difflib.get_close_matches(args.id, [e.id for e in registry.list()], n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run `omniad list` to see all ids"
        raise UnknownComponentError(f"no component with id {args.id!r}; {hint}")
    for entry in matches:
        schema = entry.params_model().model_json_schema()
        print(json.dumps({"kind": entry.kind, "plugin": entry.plugin, "card": entry.card.model_dump(mode="json"),
                          "parameters": schema.get("properties", {}), "required": schema.get("required", [])}, indent=1))
    return 0


def _load(args: argparse.Namespace) -> Any:
    from omniad.runner.config import load_config

    overrides: dict[str, Any] = {}
    for name in ("output_dir", "executor", "workers", "address", "rerun", "device"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return load_config(args.config, overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    from omniad.plugins import get_registry
    from omniad.runner.jobs import plan, seed_notes

    config = _load(args)
    registry = get_registry()
    jobs = plan(config, registry)
    for note in seed_notes(config, registry, jobs):
        print(f"note: {note}", file=sys.stderr)
    print(f"{args.config}: valid, {len(jobs)} jobs")
    return 0


def _results_table(sec: Any, names: dict[str, str], shown: dict[str, str], brief: dict[str, str],
                   ids: dict[str, str], width: int) -> tuple[list[str], list[list[str]], list[int], list[str]]:
    """One dataset's table for a terminal ``width`` wide: columns, rows, the optional columns
    (least wanted first: other metrics, fit time, protocol metrics after the headline) and
    the legend of the detector labels it had to shorten."""
    from omniad.runner import report
    from omniad.runner.labels import shorten

    room = max(30, width // 3)
    legend: list[str] = []

    def label(stored: str) -> str:
        text = shown.get(stored, stored)
        if len(text) <= room:
            return text
        legend.append(text)  # shown whole under the table; in it the parameters that tell the rows apart
        tag = f" [{len(legend)}]"
        return shorten(brief.get(stored, text), room - len(tag), ids.get(stored)) + tag

    columns = ["detector", *[names.get(c, c) + (" †" if c in sec.dishonest else "") for c in sec.columns], "fit s",
               "status"]
    rows = [[label(b["detector"]), *[report._cell(b, c) for c in sec.columns], report._fmt(b.get("fit_s"), 2),
             b["status"]] for b in sec.rows]
    n_protocol = len(sec.protocol)
    metrics = list(range(1, 1 + len(sec.columns)))
    optional = [*reversed(metrics[n_protocol:]), len(columns) - 2, *reversed(metrics[1:n_protocol])]
    return columns, rows, optional, legend


def _print_results(result: Any, console: Any = None) -> None:
    """Each dataset's table, fitted to the terminal: ids never split, long labels shortened with a legend."""
    from rich.markup import escape  # labels and warnings quote code: "x[0]" is no markup

    from omniad.runner import labels, report

    console = console or _console()
    names = report.short_names(result.records)
    shown = labels.display_labels("detector", result.records)
    brief = labels.distinguishing_labels("detector", result.records)
    ids = {r.get("detector", {}).get("label", "?"): r.get("detector", {}).get("id") for r in result.records}
    ds_ids = {r.get("dataset", {}).get("label", "?"): r.get("dataset", {}).get("id") for r in result.records}
    for sec in report.sections(result.records):
        columns, rows, optional, legend = _results_table(sec, names, shown, brief, ids, console.width)
        title = sec.display or sec.dataset
        short_title = labels.shorten(title, max(24, console.width - 1), ds_ids.get(sec.dataset))
        table, dropped = _fitted(console, "", columns, rows, optional)
        console.print(f"[bold]{escape(short_title)}[/]", highlight=False)  # the full width, not the table's
        console.print(table)
        # whole labels on their own lines, never broken by rich (the terminal wraps them; a copy is intact)
        if short_title != title:
            console.print(f"dataset: {escape(title)}", highlight=False, soft_wrap=True)
        for n, text in enumerate(legend, 1):
            console.print(f"\\[{n}] {escape(text)}", highlight=False, soft_wrap=True)
        if dropped:
            console.print(f"not shown at this width: {escape(', '.join(dropped))} (all columns: results.md, results.csv)",
                          highlight=False)
        for b in sec.rows:
            who = escape(shown.get(b["detector"], b["detector"]))
            if b["error"]:
                console.print(f"[yellow]{who}:[/] {escape(b['error'])}", highlight=False)
            if b.get("adjusted"):
                console.print(f"[cyan]{who} adjusted:[/] {escape(b['adjusted'])}", highlight=False)
            if b.get("data_notes"):
                console.print(f"[cyan]{who} data:[/] {escape(b['data_notes'])}", highlight=False)
            if text := report.not_computed(b, names):
                console.print(f"[yellow]{who} metrics not computed:[/] {escape(text)}", highlight=False)
    for kind, path in result.outputs.items():
        console.print(f"{kind}: {path}", highlight=False)


def _execute(config: Any, args: argparse.Namespace) -> int:
    from omniad.runner.run import run

    try:
        result = run(config, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished jobs are saved in {config.output_dir}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    _print_results(result)
    elsewhere = f", {result.elsewhere} being run by another runner" if result.elsewhere else ""
    print(f"{len(result.records)} jobs ({result.ran} run, {result.skipped} reused{elsewhere}), "
          f"{len(result.failed)} failed", file=sys.stderr)
    if result.no_result:  # a grid with nothing to show is an error, whatever --fail-on-error says
        skipped = sum(r.get("status") == "skipped" for r in result.records)
        print(f"error: none of the {len(result.records)} jobs produced a result ({len(result.failed)} failed, "
              f"{skipped} skipped); see the errors above", file=sys.stderr)
        return 1
    if args.fail_on_error and result.failed:
        return 1
    if result.elsewhere:  # results missing from this run: a script must not take them as complete
        print(f"incomplete: {result.elsewhere} of {len(result.jobs)} jobs were left to another runner and are not in "
              f"this run's results; run the same command again once it finishes (its records are reused) or "
              f"`omniad report {config.output_dir}`", file=sys.stderr)
        return 3
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _execute(_load(args), args)


def cmd_demo(args: argparse.Namespace) -> int:
    from omniad.plugins import get_registry
    from omniad.runner.demo import demo_config

    notes: list[str] = []
    config = demo_config(get_registry(), Path(args.output_dir or "omniad-demo"), modality=args.modality, notes=notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return _execute(config, args)


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the reports from the usable records; exit 1 when some records had to be left out."""
    from omniad.runner import report
    from omniad.runner.run import RunResult
    from omniad.runner.store import ResultStore

    root = Path(args.results_dir)
    store = ResultStore(root)
    scan = store.scan()
    for problem in scan.problems:
        print(f"cannot use record {problem}; the job is left out of the report", file=sys.stderr)
    records = list(scan.records.values())
    if not records and scan.problems:
        raise OmniadError(f"{root}: none of its {len(scan.problems)} job records can be used (see above); "
                          "`omniad run` the grid again to redo those jobs")
    if not records:
        raise OmniadError(f"{root}: no job records found (expected {root}/jobs/*.json); pass a run's output_dir")
    store.prepare()  # the reports are written beside the records
    title = "omniad results"
    manifest = root / "run.json"
    try:
        name = json.loads(manifest.read_text()).get("name") if manifest.is_file() else None
    except (ValueError, OSError, AttributeError):
        name = None  # a damaged manifest costs the title, nothing else
    if isinstance(name, str):
        title = name
    outputs = report.write_all(records, root, title=title)
    _print_results(RunResult(root, [], records, 0, len(records), outputs, problems=scan.problems))
    if scan.problems:
        print(f"{len(scan.problems)} of {len(scan.problems) + len(records)} records could not be used; "
              "the report was written without them", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    from omniad.version import __version__

    parser = argparse.ArgumentParser(prog="omniad", description="Anomaly detection across modalities: one contract, one runner, one results table.")
    parser.add_argument("--version", action="version", version=f"omniad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="installed plugins, versions and load errors")
    p.add_argument("--json", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 if any plugin failed to load")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("list", help="registered detectors, datasets and metrics")
    p.add_argument("kind", nargs="?", help="detectors | datasets | metrics")
    p.add_argument("--modality", help="e.g. timeseries, vision, tabular")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="a component's card and parameter schema")
    p.add_argument("id")
    p.set_defaults(func=cmd_show)

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--output-dir", dest="output_dir", help="where records and reports go")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--fail-on-error", action="store_true",
                       help="exit 1 if any job failed (a run where every job failed or was skipped always exits 1)")

    p = sub.add_parser("run", help="run a grid from a TOML/YAML config (resumes where it stopped)")
    p.add_argument("config")
    run_options(p)
    p.add_argument("--executor", choices=["inline", "process", "ray"])
    p.add_argument("--workers", type=int)
    p.add_argument("--address", help="ray: auto (this host's cluster) or ray://HEAD:10001; default: a local instance")
    p.add_argument("--rerun", choices=["failed", "never", "all"])
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check a config against the installed plugins without running it")
    p.add_argument("config")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="rebuild the tables and HTML report of a results directory")
    p.add_argument("results_dir")
    p.set_defaults(func=cmd_report)

    from omniad.cli_own_data import add_parsers

    add_parsers(sub)
    from omniad.cli_watch import add_parser as add_watch

    add_watch(sub)

    p = sub.add_parser("demo", help="run every installed plugin's demo components on built-in data")
    p.add_argument("--modality")
    run_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OmniadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
