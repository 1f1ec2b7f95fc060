"""Decoding and encoding video with PyAV (its wheels bundle FFmpeg: no system ffmpeg needed).

Frames are sampled by ``stride`` (every n-th frame) or by ``fps`` (the frames nearest to a
regular time grid), optionally downscaled so the longer side is ``max_side`` (a long video at
full resolution does not fit in memory; frame-level methods work on small frames anyway).
The original frame numbers are kept (``FrameVideo.frame_index``) so that scores on the kept
frames are spread back to every frame of the ground truth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.errors import DataError
from omniad_video.samples import FrameVideo
from omniad_video.suffixes import IMAGE_SUFFIXES, VIDEO_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "frame_files", "natural_key", "probe", "read_frame_folder", "read_video",
           "write_video"]



def _resize(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(frame.shape[:2]) <= max_side:
        return frame
    from PIL import Image

    h, w = frame.shape[:2]
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


def _fps_targets(rate: float, fps: float) -> Iterator[int]:
    """Frame numbers nearest to the times ``0, 1/fps, 2/fps, ...`` (increasing, each once)."""
    k, last = 0, -1
    while True:
        n = int(np.floor(k * rate / fps + 0.5))
        k += 1
        if n > last:
            last = n
            yield n


def probe(path: str | Path) -> dict[str, float | int | None]:
    """``n_frames``, ``fps``, ``width``, ``height`` from the container header (no decoding);
    ``n_frames`` is None where the container does not store it."""
    import av

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"{path}: holds no video stream")
            s = container.streams.video[0]
            return {"n_frames": int(s.frames) or None, "fps": float(s.average_rate) if s.average_rate else None,
                    "width": s.codec_context.width, "height": s.codec_context.height}
    except (av.error.FFmpegError, OSError) as exc:
        raise DataError(f"{path}: not a readable video ({exc})") from None


def read_video(
    path: str | Path, *, stride: int = 1, fps: float | None = None, max_side: int | None = None,
    gray: bool = False, label: int | None = None,
) -> FrameVideo:
    """Decode ``path`` into a :class:`FrameVideo` (see the module docstring for sampling)."""
    import av

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    if stride < 1:
        raise DataError(f"{path}: stride must be >= 1, got {stride}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise DataError(f"{path}: not a decodable video ({exc}); check the file or re-encode it") from None
    with container:
        if not container.streams.video:
            raise DataError(f"{path}: holds no video stream")
        stream = container.streams.video[0]
        rate = float(stream.average_rate) if stream.average_rate else None
        targets = None
        if fps is not None:
            if not rate:
                raise DataError(f"{path}: the file states no frame rate, so fps sampling is impossible; use stride")
            targets = _fps_targets(rate, fps)
            want = next(targets)
        frames, index, n_seen = [], [], 0
        try:
            for frame in container.decode(stream):
                keep = n_seen % stride == 0 if targets is None else n_seen == want
                if keep:
                    img = frame.to_ndarray(format="gray" if gray else "rgb24")
                    frames.append(_resize(img, max_side))
                    index.append(n_seen)
                    if targets is not None:
                        want = next(targets)
                n_seen += 1
        except av.error.FFmpegError as exc:
            raise DataError(f"{path}: decoding failed after {n_seen} frames ({exc})") from None
    if n_seen == 0:
        raise DataError(f"{path}: the video has no frames (zero-length or truncated file)")
    return FrameVideo(frames=np.stack(frames), n_frames=n_seen, frame_index=np.asarray(index), fps=rate,
                      name=str(path), label=label)


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``frame_2.png`` before ``frame_10.png`` (numbers compared as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in _DIGITS.split(name) if part)


def frame_files(folder: Path) -> tuple[list[Path], int]:
    """The frame images of ``folder`` in frame order (natural sort of their names), and how many
    other files it holds (skipped; the loaders count them)."""
    files, other = [], 0
    for f in folder.iterdir():
        if f.is_dir():
            continue
        if f.suffix.lower() in IMAGE_SUFFIXES:
            files.append(f)
        else:
            other += 1
    return sorted(files, key=lambda f: natural_key(f.name)), other


def read_frame_folder(
    folder: str | Path, *, stride: int = 1, max_side: int | None = None, label: int | None = None,
    fps: float | None = None,
) -> FrameVideo:
    """A folder of frame images as a :class:`FrameVideo`, in natural name order (``2.png`` before ``10.png``).

    ``meta["files"]`` names the image of every original frame (the per-frame tables show it),
    ``meta["skipped_files"]`` counts the files in the folder that are not frame images;
    ``fps`` is the rate the frames were taken at, when known (frame folders do not say).
    """
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such frame folder")
    if stride < 1:
        raise DataError(f"{folder}: stride must be >= 1, got {stride}")
    files, other = frame_files(folder)
    if not files:
        raise DataError(f"{folder}: holds no frame images ({', '.join(IMAGE_SUFFIXES)})")
    frames = []
    for f in files[::stride]:
        try:
            with Image.open(f) as img:
                frames.append(_resize(np.asarray(img.convert("RGB")), max_side))
        except OSError as exc:
            raise DataError(f"{f}: not a readable image ({exc})") from None
    shapes = {fr.shape for fr in frames}
    if len(shapes) > 1:
        raise DataError(f"{folder}: frames differ in size {sorted(shapes)[:3]}")
    return FrameVideo(frames=np.stack(frames), n_frames=len(files), frame_index=np.arange(0, len(files), stride),
                      name=str(folder), label=label, fps=fps,
                      meta={"files": [f.name for f in files], "skipped_files": other})


def write_video(path: str | Path, frames: np.ndarray, fps: float = 25.0, codec: str = "mpeg4") -> Path:
    """Encode ``(F, H, W, 3)`` uint8 frames (even H and W) to ``path``."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames, dtype=np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=round(fps))
        stream.height, stream.width = frames.shape[1], frames.shape[2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "2"} if codec == "mpeg4" else {}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
