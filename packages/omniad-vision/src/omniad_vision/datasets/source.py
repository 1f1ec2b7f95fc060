"""Any folder of images, or one image file, read whole: what ``omniad fit / score`` open.

A user's images come in every arrangement: one flat folder of photos, dated subfolders, or
``good`` / ``<defect>`` folders with ``ground_truth`` masks as in MVTec AD. Nothing is
required: every image below the folder is a sample, named by its path relative to the
folder, and labels are taken only where the folder names say them:

- an image in a folder named ``good``, ``ok`` or ``normal`` is normal;
- an image in a folder beside such a folder (``test/crack`` next to ``test/good``) is
  anomalous, of that kind;
- anything else says nothing, and then the whole source is unlabelled (a warning and the
  count ``images_with_unknown_label`` say so when only some images were labelled).

Masks of anomalous images are looked up by stem (``<stem>``, ``<stem>_mask``, or the given
``mask_suffix``) in a ``ground_truth`` / ``masks`` / ``gt`` folder next to the kind folder,
also in MVTec's place (``<category>/ground_truth/<kind>`` for ``<category>/test/<kind>``),
or in ``mask_dir``. Images inside such mask folders are masks, never samples. A kind with a
mask folder must have every mask (a missing one is an error: the ground truth is wrong); a
kind without one has none, and when other kinds do, pixel targets are dropped for the
source, counted (``anomalous_images_without_masks``) and warned about.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_vision.datasets.files import TestImage, check_mask_sizes, find_mask
from omniad_vision.images import IMAGE_SUFFIXES, ImageFiles, MaskFiles, image_size

NORMAL_FOLDERS = frozenset({"good", "ok", "normal"})
MASK_FOLDERS = frozenset({"ground_truth", "ground-truth", "groundtruth", "gt", "mask", "masks"})
DEFAULT_MASK_SUFFIXES = ("_mask", "")
#: how each count is told in its warning
_EVENTS = {
    "files_not_images": "file(s) that are not images ({suffixes}) skipped",
    "images_with_unknown_label": "image(s) outside the good / <defect> folders, so their label is unknown: the "
    "source is read unlabelled",
    "anomalous_images_without_masks": "anomalous image(s) of a kind without a mask folder: pixel targets dropped "
    "for this subset (image labels kept)",
}


@dataclass
class Counts:
    """What reading skipped or dropped, with examples; becomes ``Subset.meta["counts"]`` and one warning per kind."""

    where: str
    name: str

    def __post_init__(self) -> None:
        self.n: dict[str, int] = {}
        self.examples: dict[str, list[str]] = {}

    def add(self, kind: str, example: str, n: int = 1) -> None:
        self.n[kind] = self.n.get(kind, 0) + n
        self.examples.setdefault(kind, []).append(example)

    def finish(self) -> dict[str, int]:
        for kind, n in self.n.items():
            shown = ", ".join(self.examples[kind][:3]) + (", ..." if len(self.examples[kind]) > 3 else "")
            text = _EVENTS[kind].format(suffixes="/".join(IMAGE_SUFFIXES))
            warnings.warn(f"{self.where}, subset {self.name!r}: {n} {text}: {shown}", UserWarning, stacklevel=4)
        return dict(self.n)


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _hidden(parts: Sequence[str]) -> bool:
    return any(p.startswith(".") for p in parts)


def scan(root: Path, counts: Counts, skip: Sequence[Path] = ()) -> list[Path]:
    """Image files below ``root`` ordered by relative path; mask folders and hidden entries left out."""
    skipped = [s.resolve() for s in skip]
    images = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).parts
        if _hidden(rel) or any(p.lower() in MASK_FOLDERS for p in rel[:-1]) or not path.is_file():
            continue
        if any(path.resolve().is_relative_to(s) for s in skipped):
            continue
        if is_image_file(path):
            images.append(path)
        else:
            counts.add("files_not_images", path.relative_to(root).as_posix())
    return sorted(images, key=lambda p: p.relative_to(root).as_posix())


def _has_normal_child(folder: Path, cache: dict[Path, bool]) -> bool:
    if folder not in cache:
        cache[folder] = any(d.is_dir() and d.name.lower() in NORMAL_FOLDERS for d in folder.iterdir())
    return cache[folder]


def label_of(path: Path, root: Path, cache: dict[Path, bool]) -> int | None:
    """0 in a good/ok/normal folder, 1 in a folder beside one, None otherwise (only folders below ``root`` count)."""
    folder = path.parent
    if folder == root or not folder.is_relative_to(root):
        return None
    if folder.name.lower() in NORMAL_FOLDERS:
        return 0
    return 1 if _has_normal_child(folder.parent, cache) else None


def mask_folders(kind_dir: Path, mask_dir: Path | None) -> list[Path]:
    """Existing folders that may hold the masks of the images in ``kind_dir``, most specific first."""
    if mask_dir is not None:
        candidates = [mask_dir / kind_dir.name, mask_dir]
    else:
        above = kind_dir.parent
        bases = [above, above.parent] if above.name.lower() == "test" else [above]  # MVTec: <cat>/ground_truth
        names = sorted(n for n in {d.name for b in bases for d in b.iterdir() if d.is_dir()}
                       if n.lower() in MASK_FOLDERS)
        candidates = [b / n / kind_dir.name for b in bases for n in names] + [above / n for n in names]
    return [c for c in candidates if c.is_dir()]


def read_everything(
    root: Path, where: str, *, name: str | None = None, mask_dir: Path | None = None, mask_suffix: str = "",
) -> Subset:
    """One subset of every image below ``root`` (or of the one image ``root`` is); see the module docstring."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(f"{where}: {root} does not exist; check the path")
    if mask_dir is not None and not Path(mask_dir).is_dir():
        raise DataError(f"{where}: mask_dir {mask_dir} does not exist")
    if root.is_file():
        if not is_image_file(root):
            raise DataError(f"{where}: {root} is not an image file; give a {'/'.join(IMAGE_SUFFIXES)} file or a "
                            "folder of them")
        counts = Counts(where, name or root.resolve().parent.name or root.stem)
        item = TestImage(root, -1, None, root.name)
        return whole_images(counts.name, [item], where, with_masks=False, counts=counts)
    counts = Counts(where, name or root.resolve().name or "images")
    paths = scan(root, counts, [] if mask_dir is None else [Path(mask_dir)])
    if not paths:
        raise DataError(f"{where}: {root} holds no image files ({'/'.join(IMAGE_SUFFIXES)}), its subfolders "
                        "searched too; give a folder of images or one image file")
    cache: dict[Path, bool] = {}
    found = [label_of(p, root, cache) for p in paths]
    unknown = [p for p, lab in zip(paths, found, strict=True) if lab is None]
    if unknown and len(unknown) < len(paths):
        for p in unknown:
            counts.add("images_with_unknown_label", p.relative_to(root).as_posix())
    labelled = not unknown
    suffixes = tuple(dict.fromkeys((mask_suffix, *DEFAULT_MASK_SUFFIXES)))
    items, kinds_without, with_mask = [], [], 0
    folders: dict[Path, list[Path]] = {}
    for p, lab in zip(paths, found, strict=True):
        rel = p.relative_to(root).as_posix()
        mask = None
        if labelled and lab == 1:
            if p.parent not in folders:
                folders[p.parent] = mask_folders(p.parent, mask_dir)
            candidates = folders[p.parent]
            if candidates:
                mask = next((m for c in candidates if (m := find_mask(c, p.stem, suffixes)) is not None), None)
                if mask is None:
                    raise DataError(f"{where}: anomalous image {p} has no mask in {candidates[0]} (expected "
                                    f"{candidates[0] / (p.stem + suffixes[0])}.png); add the mask or remove the image")
                with_mask += 1
            else:
                kinds_without.append(rel)
        items.append(TestImage(p, lab if labelled and lab is not None else -1, mask, rel))
    if with_mask and kinds_without:
        for rel in kinds_without:
            counts.add("anomalous_images_without_masks", rel)
    return whole_images(counts.name, items, where, with_masks=with_mask > 0 and not kinds_without, counts=counts)


def whole_images(name: str, items: Sequence[TestImage], where: str, *, with_masks: bool, counts: Counts) -> Subset:
    """test = every image, train = those not labelled anomalous (``omniad.data.whole_subset``, kept lazy).

    Items labelled ``-1`` make the source unlabelled. The core's ``whole_subset`` would index the
    lazy image sequence to take the normal ones, decoding every image up front; this keeps paths.
    """
    shapes = [image_size(t.path, where) for t in items]
    if with_masks:
        check_mask_sizes(items, shapes, where)
    labels = None if any(t.label < 0 for t in items) else np.array([t.label for t in items], dtype=np.int8)
    meta = {"counts": counts.finish()}
    ids = [t.id for t in items]
    targets = MaskFiles([t.mask for t in items], shapes, where) if with_masks and labels is not None else None
    test = Split(samples=ImageFiles([t.path for t in items], where), labels=labels, targets=targets, ids=ids,
                 meta=dict(meta))
    keep = list(range(len(items))) if labels is None else [i for i in range(len(items)) if labels[i] == 0]
    if not keep:
        raise DataError(f"{where}, subset {name!r}: every image is labelled anomalous (in folders beside a good "
                        "folder), so there is nothing to fit on; add normal images")
    train = Split(samples=ImageFiles([items[i].path for i in keep], where), ids=[ids[i] for i in keep],
                  meta=dict(meta))
    return Subset(name=name, train=train, test=test, meta=dict(meta))
