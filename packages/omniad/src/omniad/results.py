"""Per-sample and per-element results of scoring a source: the tables and files people open.

``samples`` has one row per sample (its name, score, decision, how many of its elements
were flagged, and the elements that drove its score); ``elements`` one row per element,
named in the user's terms by the loader (``Dataset.element_columns``: timestamp and row,
file / line number / raw line / template, point index, frame number). Elements that are
not table rows (pixels) are written as maps instead: ``maps/<sample>.npy`` and a greyscale
``.png``. Both tables go to CSV, and to parquet when pyarrow is installed (said otherwise).
"""

from __future__ import annotations

import csv
import json
import math
import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split
from omniad.dataset import Dataset, sample_stem
from omniad.decision import Decisions
from omniad.errors import OmniadError

#: elements listed per sample in ``top_elements``
TOP_K = 5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, limit: int = 80) -> str:
    """A file name for a sample id (``images/good/003.png`` -> ``images_good_003.png``)."""
    name = _UNSAFE.sub("_", str(text)).strip("._") or "sample"
    return name[-limit:]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.datetime64,)):
        return str(value)
    return value


@dataclass
class Table:
    """Columns of equal length; built up chunk by chunk, written once."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    n_rows: int = 0

    def add(self, chunk: dict[str, Sequence[Any]]) -> None:
        lengths = {len(v) for v in chunk.values()}
        if len(lengths) > 1:
            raise OmniadError(f"element columns of unequal length: { {k: len(v) for k, v in chunk.items()} }")
        n = lengths.pop() if lengths else 0
        for name in chunk:
            if name not in self.columns:
                self.columns[name] = [None] * self.n_rows
        for name, values in self.columns.items():
            values.extend(list(chunk[name]) if name in chunk else [None] * n)
        self.n_rows += n

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        return [{k: _plain(self.columns[k][i]) for k in names} for i in range(self.n_rows)]

    def write_csv(self, path: Path) -> Path:
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(self.columns))
            for i in range(self.n_rows):
                writer.writerow(["" if (v := _plain(col[i])) is None else v for col in self.columns.values()])
        return path

    def write_parquet(self, path: Path) -> Path | None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            return None
        arrays = {}
        for name, values in self.columns.items():
            plain = [_plain(v) for v in values]
            try:
                arrays[name] = pa.array(plain)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them readable as text
                arrays[name] = pa.array([None if v is None else str(v) for v in plain])
        pq.write_table(pa.table(arrays), path)
        return path


def write_png_gray(path: Path, image: np.ndarray) -> Path:
    """A 2-D map as an 8-bit greyscale PNG (min-max scaled), with zlib only: no imaging library needed."""
    a = np.asarray(image, dtype=np.float64)
    lo, hi = float(np.min(a)), float(np.max(a))
    img = np.zeros(a.shape, np.uint8) if hi <= lo else ((a - lo) / (hi - lo) * 255).round().astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in img)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", img.shape[1], img.shape[0], 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
                     + chunk(b"IEND", b""))
    return path


@dataclass
class SourceResults:
    """What scoring one source produced, before and after writing."""

    samples: Table = field(default_factory=Table)
    elements: Table = field(default_factory=Table)
    maps: list[Path] = field(default_factory=list)
    pictures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def n_flagged(self) -> int:
        return sum(1 for d in self.samples.columns.get("decision", []) if d == 1)

    @property
    def n_flagged_elements(self) -> int:
        return sum(1 for d in self.elements.columns.get("decision", []) if d == 1)


def top_order(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest values, highest first, ties by position, NaN last: what a stable
    argsort of ``-values`` gives, in linear time (a 10M-point series' top 20 should not sort it all)."""
    neg = -np.asarray(values, dtype=np.float64).reshape(-1)
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    if neg.size <= k:
        return np.argsort(neg, kind="stable")
    kth = np.partition(neg, k - 1)[k - 1]
    if np.isnan(kth):  # fewer than k real values: the NaN fill the rest, by position
        return np.argsort(neg, kind="stable")[:k]
    candidates = np.flatnonzero(neg <= kth)  # every value up to the k-th, ties at it included, in position order
    return candidates[np.argsort(neg[candidates], kind="stable")][:k]


def _top(columns: Mapping[str, Sequence[Any]] | None, local: np.ndarray, k: int = TOP_K) -> list[dict[str, Any]]:
    flat = np.asarray(local, dtype=np.float64).reshape(-1)
    order = top_order(flat, k)
    out = []
    for i in order:
        if columns is not None:
            item = {name: _plain(values[int(i)]) for name, values in columns.items() if len(values) == flat.size}
        else:  # a map: name the position by its coordinates
            item = {"position": [int(c) for c in np.unravel_index(int(i), np.shape(local))]}
        item["score"] = round(float(flat[i]), 6)
        out.append(item)
    return out


def collect(
    results: SourceResults, subset: str, split: Split, decisions: Decisions, dataset: Dataset | None,
    out_dir: Path | None,
) -> None:
    """Add the rows of one scored split; write the maps of elements that are not rows."""
    scores = decisions.scores
    for i in range(len(scores.sample)):
        sample_id = split.sample_id(i)
        row: dict[str, Any] = {"subset": [subset], "sample": [sample_id]}
        if dataset is not None:
            row.update({k: [v] for k, v in dataset.sample_columns(split, i).items()})
        row["score"] = [float(scores.sample[i])]
        row["decision"] = [None if decisions.sample is None else int(decisions.sample[i])]
        if scores.decision is not None:
            row["method_decision"] = [int(scores.decision[i])]
        if split.labels is not None:
            row["label"] = [int(split.labels[i])]
        if scores.local is not None:
            local = np.asarray(scores.local[i])
            n = int(local.size)
            columns = None
            if local.ndim <= 1:
                columns = dataset.element_columns(split, i, n) if dataset is not None else {"element": list(range(n))}
            row["n_elements"] = [n]
            if decisions.element is not None:
                row["n_flagged_elements"] = [int(np.sum(decisions.element[i]))]
            row["top_elements"] = [json.dumps(_top(columns, local), default=str)]
            if columns is not None:
                chunk: dict[str, Sequence[Any]] = {"subset": [subset] * n, "sample": [sample_id] * n}
                chunk.update({k: list(v) for k, v in columns.items()})
                chunk["score"] = local.reshape(-1).tolist()
                if decisions.element is not None:
                    chunk["decision"] = decisions.element[i].reshape(-1).tolist()
                if split.targets is not None:
                    chunk["label"] = np.asarray(split.targets[i]).reshape(-1).astype(int).tolist()
                results.elements.add(chunk)
            elif out_dir is not None:
                maps = out_dir / "maps"
                maps.mkdir(parents=True, exist_ok=True)
                stem = safe_name(f"{subset}-{sample_stem(sample_id)}" if subset else sample_stem(sample_id))
                np.save(maps / f"{stem}.npy", local.astype(np.float32))
                results.maps.append(write_png_gray(maps / f"{stem}.png", local))
                if decisions.element is not None:
                    results.maps.append(write_png_gray(maps / f"{stem}.decision.png", decisions.element[i]))
        results.samples.add(row)


def write(results: SourceResults, out_dir: Path, summary: dict[str, Any]) -> dict[str, Path]:
    """The tables (CSV, parquet when possible) and ``summary.json``; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, table in (("samples", results.samples), ("elements", results.elements)):
        if table.n_rows == 0:
            continue
        files[f"{name}.csv"] = table.write_csv(out_dir / f"{name}.csv")
        parquet = table.write_parquet(out_dir / f"{name}.parquet")
        if parquet is not None:
            files[f"{name}.parquet"] = parquet
        elif name == "samples":
            results.notes.append("parquet tables not written: pyarrow is not installed (pip install 'omniad[parquet]')")
    summary = {**summary, "notes": results.notes, "metrics": results.metrics,
               "n_samples": results.samples.n_rows, "n_flagged_samples": results.n_flagged,
               "n_elements": results.elements.n_rows, "n_flagged_elements": results.n_flagged_elements,
               "maps": len(results.maps), "pictures": [str(p.relative_to(out_dir)) if p.is_relative_to(out_dir) else str(p)
                                                         for p in results.pictures]}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    files["summary.json"] = out_dir / "summary.json"
    results.files = files
    return files
