"""The HTML report shows the pictures a run drew, from any working directory, under each dataset's table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omniad.runner import ResultStore, parse_config, report, run
from omniad.runner.pictures import resolve, stored_path

PICTURES = """
import struct
import zlib

from omniad import hookimpl
from omniad.builtins.tabular_data import Blobs


def png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\\x00\\xff\\x00\\x00")) + chunk(b"IEND", b""))


class DrawnBlobs(Blobs):
    def render_examples(self, subset, scores, out_dir, max_examples=4):
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(min(max_examples, len(subset.test))):
            path = out_dir / f"{subset.name}_sample{i}.png"
            path.write_bytes(png())
            paths.append(path)
        return paths


@hookimpl
def omniad_register_datasets(registry):
    registry.add(id="pics.blobs", target="fake_omniad_pics:DrawnBlobs",
                 params="omniad.builtins.tabular_data:BlobsParams", modality="tabular", summary="blobs with pictures")
"""

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(8)  # the report embeds only files that start as an image does


def _grid(output_dir: str) -> dict[str, object]:
    return {
        "name": "pictures",
        "output_dir": output_dir,
        "detectors": [{"id": "core.knn"}, {"id": "core.mahalanobis"}],
        "datasets": [
            {"id": "pics.blobs", "params": SMALL, "name": "drawn"},
            {"id": "core.blobs", "params": SMALL, "name": "undrawn"},
        ],
        "metrics": ["core.auroc"],
        "examples": 2,
    }


def test_report_shows_every_picture_when_run_from_another_directory(
    tmp_path: Path, make_plugin, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_plugin("pics", PICTURES)
    work, out = tmp_path / "work", tmp_path / "elsewhere" / "out"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run(parse_config(_grid(os.path.relpath(out, work))), progress=False)  # ../elsewhere/out
    assert all(r["status"] == "ok" for r in result.records)
    drawn = sorted(out.glob("artifacts/*/*/*.png"))
    assert len(drawn) == 4  # 2 detectors x 2 examples on the dataset that draws
    page = (out / "report.html").read_text()
    assert page.count("<img") == len(drawn)
    assert "missing" not in capsys.readouterr().err

    for record in result.records:  # records name pictures relative to the output directory
        for name in (a for s in record["subsets"] for a in s.get("artifacts", [])):
            assert name.startswith("artifacts/") and (out / name).is_file()

    # the gallery sits right under the dataset's table, before the per-job sections
    drawn_h2, jobs_h2 = page.index("<h2>drawn</h2>"), page.index("<h2>Jobs</h2>")
    gallery = page.index("<div class='gallery'>", drawn_h2)
    assert drawn_h2 < page.index("</table>", drawn_h2) < gallery < jobs_h2
    undrawn_h2 = page.index("<h2>undrawn</h2>")
    assert gallery < undrawn_h2 and "<div class='gallery'>" not in page[undrawn_h2:jobs_h2]
    assert "<figcaption>core.knn · blobs-local · sample1</figcaption>" in page  # detector · subset · sample

    # ``omniad report`` from yet another directory finds them too
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    report.write_all(ResultStore(out).records(), out)
    assert (out / "report.html").read_text().count("<img") == len(drawn)
    assert "example pictures" in (out / "results.md").read_text()


def _record(artifacts: list[str]) -> dict[str, object]:
    return {
        "key": "0123456789abcdef",
        "detector": {"label": "det"},
        "dataset": {"label": "ds"},
        "seed": 0,
        "status": "ok",
        "requested_metrics": [],
        "metrics": {},
        "subsets": [{"name": "s", "status": "ok", "artifacts": artifacts}],
    }


def test_old_records_with_cwd_relative_or_absolute_paths_still_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "omniad-demo"
    folder = root / "artifacts" / "0123456789abcdef" / "s"
    folder.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(PNG_HEAD)
    old = ["omniad-demo/artifacts/0123456789abcdef/s/a.png", str(folder / "b.png")]  # cwd-relative, absolute
    monkeypatch.chdir(tmp_path)
    assert report.html_report([_record(old)], "t", root).count("<img") == 2
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the cwd-relative one no longer resolves as written; its artifacts/ part does
    monkeypatch.chdir(elsewhere)
    assert resolve(old[0], root) == root / "artifacts/0123456789abcdef/s/a.png"
    assert report.html_report([_record(old)], "t", root).count("<img") == 2
    assert stored_path(folder / "a.png", root) == "artifacts/0123456789abcdef/s/a.png"
    assert stored_path(tmp_path / "x.png", root) == str(tmp_path / "x.png")


def test_missing_pictures_are_reported_on_stderr_and_in_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "here.png").write_bytes(PNG_HEAD)
    written = report.write_all([_record(["artifacts/here.png", "artifacts/gone.png"])], tmp_path)
    err = capsys.readouterr().err
    assert "warning:" in err and "1 of 2 pictures" in err and "artifacts/gone.png" in err
    page = written["html"].read_text()
    assert page.count("<img") == 1
    assert "1 pictures listed in the job records are missing" in page and "artifacts/gone.png" in page


def test_a_tampered_record_cannot_make_the_report_embed_local_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only images inside the output directory are embedded; everything else is refused and named."""
    import base64
    import json

    from omniad.cli import main

    out = tmp_path / "out"
    cfg = {
        **_grid(str(out)),
        "detectors": [{"id": "core.knn"}],
        "datasets": [{"id": "core.blobs", "params": SMALL}],
    }
    result = run(parse_config(cfg), progress=False)
    secret = tmp_path / "secret.png"  # starts as a PNG does, but lies outside the output directory
    secret.write_bytes(PNG_HEAD + b"TOPSECRET-OUTSIDE")
    art = out / "artifacts"
    art.mkdir()
    (art / "ok.png").write_bytes(PNG_HEAD + b"fine")
    (art / "link.png").symlink_to(secret)  # a symlink that leaves the output directory
    (art / "escape").symlink_to(tmp_path, target_is_directory=True)
    (art / "notes.png").write_bytes(b"TOPSECRET-TEXT inside, named .png")
    (art / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    hostile = [
        "/etc/passwd",
        "../../../../etc/hostname",
        "artifacts/../../../../root/.bashrc",
        str(secret),
        "artifacts/link.png",
        "artifacts/escape/secret.png",
        "artifacts/notes.png",
        "artifacts/pic.svg",
    ]
    path = ResultStore(out).path(result.records[0]["key"])
    record = json.loads(path.read_text())
    record["subsets"][0]["artifacts"] = ["artifacts/ok.png", *hostile]
    path.write_text(json.dumps(record))
    capsys.readouterr()

    assert main(["report", str(out)]) == 0
    err = capsys.readouterr().err
    page = (out / "report.html").read_text()
    assert page.count("<img") == 1 and base64.b64encode(PNG_HEAD + b"fine").decode() in page
    leaked = [secret.read_bytes(), (art / "notes.png").read_bytes(), (art / "pic.svg").read_bytes()]
    leaked += [Path(p).read_bytes() for p in ("/etc/passwd", "/etc/hostname") if Path(p).is_file()]
    for data in leaked:
        assert base64.b64encode(data).decode()[:40] not in page
    assert "TOPSECRET" not in page and "<script>" not in page
    for name in hostile:
        assert f"picture {name!r}" in err and "refused, not embedded" in err, (name, err)
        assert name.replace("'", "&#x27;") in page
    assert "outside the output directory" in err and "'..'" in err and "not a PNG, JPEG, GIF or WebP" in err
    assert f"{len(hostile)} pictures listed in the job records were refused" in page


def test_every_embedded_image_kind_gets_its_own_type(tmp_path: Path) -> None:
    art = tmp_path / "artifacts"
    art.mkdir()
    heads = {
        "a.png": (PNG_HEAD, "image/png"),
        "b.jpg": (b"\xff\xd8\xff\xe0" + bytes(8), "image/jpeg"),
        "c.gif": (b"GIF89a" + bytes(6), "image/gif"),
        "d.webp": (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    }
    for name, (head, _) in heads.items():
        (art / name).write_bytes(head)
    page = report.html_report([_record([f"artifacts/{n}" for n in heads])], "t", tmp_path)
    assert page.count("<img") == 4
    for _, mime in heads.values():
        assert f'src="data:{mime};base64,' in page


def test_an_oversized_image_is_refused_and_counted_in_the_job_details(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A huge file that starts as a PNG (a raw dump renamed) is not inlined: the page would not open."""
    from omniad.runner import pictures

    art = tmp_path / "artifacts"
    art.mkdir()
    (art / "ok.png").write_bytes(PNG_HEAD)
    with (art / "huge.png").open("wb") as fh:  # sparse: costs no disk
        fh.write(PNG_HEAD)
        fh.truncate(pictures.MAX_IMAGE_BYTES + 1)
    page = report.write_all([_record(["artifacts/ok.png", "artifacts/huge.png"])], tmp_path)[
        "html"
    ].read_text()
    err = capsys.readouterr().err
    assert page.count("<img") == 1 and len(page) < pictures.MAX_IMAGE_BYTES // 10
    assert "picture 'artifacts/huge.png'" in err and "MiB, over the 20 MiB" in err
    assert "1 pictures listed in the job records were refused" in page
    assert "2 example pictures (1 refused)" in page  # the job's details say so too


def test_an_image_that_grows_after_it_was_checked_is_still_refused(tmp_path: Path) -> None:
    from omniad.runner import pictures

    (tmp_path / "late.png").write_bytes(PNG_HEAD + bytes(pictures.MAX_IMAGE_BYTES))
    with pytest.raises(ValueError, match="over the 20 MiB"):
        pictures.img_tag(tmp_path / "late.png", "late")
