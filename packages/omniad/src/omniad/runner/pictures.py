"""Example pictures of a run: how records name them, and how the HTML report finds and shows them.

Records name each picture relative to the run's output directory, so a results folder can
be moved, copied or reported on from any working directory. Records written before that
named pictures relative to the working directory of the run (or absolutely); ``resolve``
still finds those wherever they can be found, and a picture that cannot be found is
reported (stderr and a note in the HTML) rather than silently left out: an empty gallery
looks exactly like a run that drew nothing.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = "artifacts"


def stored_path(path: str | Path, output_dir: str | Path) -> str:
    """How a record names a picture: POSIX path relative to ``output_dir``, absolute if outside it."""
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(Path(output_dir).absolute()).as_posix()
    except ValueError:
        return str(absolute)


def resolve(stored: str, root: Path) -> Path | None:
    """The file a record's picture name points to, or None when it is nowhere to be found.

    Tried in order: relative to the output directory (current records), as written
    (absolute, or relative to the working directory for older records), and the part from
    ``artifacts/`` on under the output directory (an older results folder that was moved).
    """
    path = Path(stored)
    candidates = [path] if path.is_absolute() else [root / path, path]
    parts = path.parts
    candidates += [root / Path(*parts[i:]) for i, part in enumerate(parts) if part == ARTIFACTS_DIR]
    return next((c for c in candidates if c.is_file()), None)


@dataclass(frozen=True)
class Picture:
    """One example picture of one job, with what its caption says."""

    detector: str
    dataset: str
    seed: Any
    subset: str
    sample: str
    stored: str
    path: Path | None

    def caption(self, with_seed: bool) -> str:
        parts = [self.detector, self.subset, self.sample if self.sample != self.subset else ""]
        if with_seed:
            parts.append(f"seed {self.seed}")
        return " · ".join(p for p in parts if p)


def _sample_name(stored: str, subset: str) -> str:
    """The sample shown, from the file name (renderers name files ``[<subset>_]<sample>.png``)."""
    stem = Path(stored).stem
    for prefix in (subset, re.sub(r"[^A-Za-z0-9._-]+", "_", subset).strip("_")):
        if prefix and stem.startswith(prefix + "_"):
            return stem[len(prefix) + 1:]
    return stem


def collect(records: Iterable[dict[str, Any]], root: Path) -> list[Picture]:
    """Every picture the records list, in record and subset order, resolved against ``root``."""
    out = []
    for r in records:
        detector = r.get("detector", {}).get("label", "?")
        dataset = r.get("dataset", {}).get("label", "?")
        for s in r.get("subsets", []):
            subset = str(s.get("name", "?"))
            for stored in s.get("artifacts", []):
                stored = str(stored)
                out.append(Picture(detector, dataset, r.get("seed"), subset, _sample_name(stored, subset),
                                   stored, resolve(stored, root)))
    return out


def warn_missing(pictures: list[Picture], where: Path, warn: Callable[[str], None] | None = None) -> None:
    """One line (``warn``, default stderr) when pictures the records list cannot be found."""
    missing = [p for p in pictures if p.path is None]
    if missing:
        say = warn or (lambda msg: print(msg, file=sys.stderr))
        say(f"warning: {where}: {len(missing)} of {len(pictures)} pictures listed in the job records are "
            f"missing (first: {missing[0].stored}); rerun those jobs with rerun='all' to redraw them")


def img_tag(path: Path, alt: str) -> str:
    """The picture inlined as a data URI, so the report stays one self-contained file."""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" loading="lazy">'


GALLERY_CSS = """
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px;margin:.5rem 0 1.5rem}
.gallery figure{margin:0;border:1px solid #ddd;border-radius:4px;padding:4px;background:#fafafa}
.gallery figure img{display:block;width:100%;height:auto;border:0;margin:0;cursor:zoom-in}
.gallery figure.big{grid-column:1/-1} .gallery figure.big img{cursor:zoom-out}
.gallery figcaption{font-size:12px;color:#333;padding:4px 2px 0;overflow-wrap:anywhere}
.warn{color:#8a4b00;background:#fff4e0;border:1px solid #f0c36d;padding:4px 8px;display:inline-block}
"""


def gallery(pictures: list[Picture], anchor: str) -> str:
    """A thumbnail grid (click a picture to see it full width), and a note for the missing ones."""
    if not pictures:
        return ""
    with_seed = len({p.seed for p in pictures}) > 1
    found = [p for p in pictures if p.path is not None]
    out = [f"<h3 id='{anchor}'>Examples ({len(found)} pictures)</h3>"]
    if found:
        out.append("<div class='gallery'>")
        for p in found:
            assert p.path is not None
            caption = p.caption(with_seed)
            try:
                img = img_tag(p.path, caption)
            except OSError:
                continue
            out.append(f"<figure onclick=\"this.classList.toggle('big')\">{img}"
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        out.append("</div>")
    missing = [p for p in pictures if p.path is None]
    if missing:
        shown = ", ".join(html.escape(p.stored) for p in missing[:5]) + (", ..." if len(missing) > 5 else "")
        out.append(f"<p class='note warn'>{len(missing)} pictures listed in the job records are missing "
                   f"(moved or deleted?): {shown}</p>")
    return "".join(out)
