"""Example pictures of a run: how records name them, and how the HTML report finds and shows them.

Records name each picture relative to the run's output directory, so a results folder can
be moved, copied or reported on from any working directory. Records written before that
named pictures relative to the working directory of the run (or absolutely); ``resolve``
still finds those wherever they can be found, and a picture that cannot be found is
reported (stderr and a note in the HTML) rather than silently left out: an empty gallery
looks exactly like a run that drew nothing.

A record is only data, and may have been edited or copied from elsewhere, so the report
embeds a picture only when it lies inside the output directory once every symlink is
followed (no ``..`` in its name), its first bytes say PNG, JPEG, GIF or WebP and it is at
most ``MAX_IMAGE_BYTES``. SVG is refused: it can carry scripts. Anything else is refused,
named on stderr and in the page, never read into it: a record naming ``/etc/passwd`` must
not ship that file in a report.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniad.dataset import picture_name

ARTIFACTS_DIR = "artifacts"


def stored_path(path: str | Path, output_dir: str | Path) -> str:
    """How a record names a picture: POSIX path relative to ``output_dir``, absolute if outside it."""
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(Path(output_dir).absolute()).as_posix()
    except ValueError:
        return str(absolute)


#: image kinds the report embeds: MIME type by the file's first bytes (no SVG: it can hold scripts)
IMAGE_KINDS = "PNG, JPEG, GIF or WebP"


def image_type(head: bytes) -> str | None:
    """The MIME type of an image the report may embed, from its first 12 bytes; None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def locate(stored: str, root: Path) -> tuple[Path | None, str]:
    """The file a record's picture name points to, or (None, why it is refused; "" when missing).

    Tried in order: relative to the output directory (current records), as written
    (absolute, or relative to the working directory for older records), and the part from
    ``artifacts/`` on under the output directory (an older results folder that was moved).
    Only a file inside ``root`` once symlinks are followed counts.
    """
    path = Path(stored)
    if ".." in path.parts:
        return None, "its name climbs out with '..'"
    candidates = [path] if path.is_absolute() else [root / path, path]
    parts = path.parts
    candidates += [root / Path(*parts[i:]) for i, part in enumerate(parts) if part == ARTIFACTS_DIR]
    inside = root.resolve()
    outside = False
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            continue
        if not real.is_relative_to(inside):
            outside = True
            continue
        if real.is_file():
            return candidate, ""
    return None, (f"it lies outside the output directory {root}" if outside else "")


def resolve(stored: str, root: Path) -> Path | None:
    """The file a record's picture name points to inside ``root``, or None (see ``locate``)."""
    return locate(stored, root)[0]


#: bytes of one picture the report inlines at most: renderers draw ~100 KB; a larger file (a
#: stray raw dump renamed .png) would make report.html too large to open, and is refused
MAX_IMAGE_BYTES = 20 * 2**20


def _too_large(size: int) -> str:
    return (
        f"it is {size / 2**20:.1f} MiB, over the {MAX_IMAGE_BYTES // 2**20} MiB a report inlines per picture"
    )


def _check_image(path: Path) -> str:
    """Why ``path`` is not an image the report embeds; "" when it is one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            size = path.stat().st_size
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not image_type(head):
        return f"it is not a {IMAGE_KINDS} image"
    return _too_large(size) if size > MAX_IMAGE_BYTES else ""


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
    #: why the picture is not shown although the record lists it ("" when shown or just missing)
    refused: str = ""
    #: the key of the job whose record lists it
    key: str = ""

    def caption(self, with_seed: bool) -> str:
        parts = [self.detector, self.subset, self.sample if self.sample != self.subset else ""]
        if with_seed:
            parts.append(f"seed {self.seed}")
        return " · ".join(p for p in parts if p)


def _sample_name(stored: str, subset: str) -> str:
    """The sample shown, from the file name (renderers name files ``[<subset>_]<sample>.png``,
    ``omniad.dataset.example_filename``)."""
    stem = Path(stored).stem
    for prefix in (subset, re.sub(r"[^A-Za-z0-9._-]+", "_", subset).strip("_"), picture_name(subset)):
        if prefix and stem.startswith(prefix + "_"):
            return stem[len(prefix) + 1 :]
    return stem


def collect(records: Iterable[dict[str, Any]], root: Path) -> list[Picture]:
    """Every picture the records list, in record and subset order, resolved against ``root``."""
    out = []
    for r in records:
        detector = r.get("detector", {}).get("label", "?")
        dataset = r.get("dataset", {}).get("label", "?")
        for s in r.get("subsets", []):
            subset = str(s.get("name", "?"))
            artifacts = s.get("artifacts", [])
            for stored in artifacts if isinstance(artifacts, list) else []:
                stored = str(stored)
                path, refused = locate(stored, root)
                if path is not None and (refused := _check_image(path)):
                    path = None
                out.append(
                    Picture(
                        detector,
                        dataset,
                        r.get("seed"),
                        subset,
                        _sample_name(stored, subset),
                        stored,
                        path,
                        refused,
                        str(r.get("key", "")),
                    )
                )
    return out


def warn_missing(pictures: list[Picture], where: Path, warn: Callable[[str], None] | None = None) -> None:
    """Lines (``warn``, default stderr) for the pictures the records list that cannot be shown.

    Missing ones are summed up in one line; each refused one is named with the reason, since
    a record naming a file it has no business naming is worth a look.
    """
    say = warn or (lambda msg: print(msg, file=sys.stderr))
    missing = [p for p in pictures if p.path is None and not p.refused]
    if missing:
        say(
            f"warning: {where}: {len(missing)} of {len(pictures)} pictures listed in the job records are "
            f"missing (first: {missing[0].stored}); rerun those jobs with rerun='all' to redraw them"
        )
    for p in (p for p in pictures if p.refused):
        say(
            f"warning: {where}: picture {p.stored!r} listed by {p.detector} on {p.dataset} (seed {p.seed}, "
            f"subset {p.subset}) is refused, not embedded: {p.refused}"
        )


def image_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or GIF from its header (None for other kinds: the browser measures those)."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24 and raw[12:16] == b"IHDR":
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    if raw[:6] in (b"GIF87a", b"GIF89a") and len(raw) >= 10:
        return int.from_bytes(raw[6:8], "little"), int.from_bytes(raw[8:10], "little")
    return None


def img_tag(path: Path, alt: str) -> str:
    """The picture inlined as a data URI, so the report stays one self-contained file.

    The bytes are checked again as read (the file may have changed since it was located);
    ``ValueError`` when they are not an image the report embeds.
    """
    with path.open("rb") as fh:
        raw = fh.read(MAX_IMAGE_BYTES + 1)
    mime = image_type(raw[:12])
    if mime is None:
        raise ValueError(f"it is not a {IMAGE_KINDS} image")
    if len(raw) > MAX_IMAGE_BYTES:
        raise ValueError(_too_large(path.stat().st_size))
    data = base64.b64encode(raw).decode()
    size = image_size(raw)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return f'<img src="data:{mime};base64,{data}" alt="{html.escape(alt)}"{dims} loading="lazy">'


#: Pictures at their own size (renderers draw them to be read: a score plot is ~1000 px wide), never
#: wider than the page; a click shows one over the page as large as the window allows, another closes it.
GALLERY_CSS = """
.gallery{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;margin:.5rem 0 1.5rem}
.gallery figure{margin:0;flex:0 1 auto;max-width:100%;border:1px solid #ddd;border-radius:4px;padding:4px;
 background:#fafafa;box-sizing:border-box}
.gallery figure img{display:block;max-width:100%;height:auto;border:0;margin:0;cursor:zoom-in}
.gallery figure.big{position:fixed;inset:0;z-index:10;max-width:none;margin:0;border:0;border-radius:0;
 background:rgba(20,20,20,.92);display:flex;flex-direction:column;align-items:center;justify-content:center}
.gallery figure.big img{width:96vw;height:88vh;max-width:none;object-fit:contain;cursor:zoom-out;background:#fff}
.gallery figure.big figcaption{color:#eee;font-size:14px}
.gallery figcaption{font-size:12px;color:#333;padding:4px 2px 0;overflow-wrap:anywhere}
.warn{color:#8a4b00;background:#fff4e0;border:1px solid #f0c36d;padding:4px 8px;display:inline-block}
"""


def gallery(pictures: list[Picture], anchor: str) -> str:
    """The pictures at their own size, capped at the page width (a click enlarges one to the window),
    and a note for the missing and refused ones."""
    if not pictures:
        return ""
    with_seed = len({p.seed for p in pictures}) > 1
    figures = []
    refused = [p for p in pictures if p.refused]
    for p in pictures:
        if p.path is None:
            continue
        caption = p.caption(with_seed)
        try:
            img = img_tag(p.path, caption)
        except OSError as exc:
            refused.append(
                dataclasses.replace(p, path=None, refused=f"it cannot be read ({exc.strerror or exc})")
            )
            continue
        except ValueError as exc:
            refused.append(dataclasses.replace(p, path=None, refused=str(exc)))
            continue
        figures.append(
            f"<figure onclick=\"this.classList.toggle('big')\">{img}"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    out = [f"<h3 id='{anchor}'>Examples ({len(figures)} pictures)</h3>"]
    if figures:
        out += ["<div class='gallery'>", *figures, "</div>"]
    missing = [p for p in pictures if p.path is None and not p.refused]
    if missing:
        shown = ", ".join(html.escape(p.stored) for p in missing[:5]) + (", ..." if len(missing) > 5 else "")
        out.append(
            f"<p class='note warn'>{len(missing)} pictures listed in the job records are missing "
            f"(moved or deleted?): {shown}</p>"
        )
    if refused:
        items = "".join(
            f"<li><code>{html.escape(p.stored)}</code> ({html.escape(p.detector)}, subset "
            f"{html.escape(p.subset)}): {html.escape(p.refused)}</li>"
            for p in refused
        )
        out.append(
            f"<div class='note warn'>{len(refused)} pictures listed in the job records were refused and "
            f"not embedded (the report shows only {IMAGE_KINDS} files of at most "
            f"{MAX_IMAGE_BYTES // 2**20} MiB inside the output directory):"
            f"<ul>{items}</ul></div>"
        )
    return "".join(out)
