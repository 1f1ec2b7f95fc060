"""Distil an EfficientAD PDN teacher from a local pretrained backbone; write it as safetensors.

The paper distils its teacher from WideResNet-101 on ImageNet. Offline, this script uses a
backbone with local ImageNet weights (default MobileNetV2 from ../shared/weights) and any
images you give it: folders of generic images (best: many varied photos), procedural
textures (``--synthetic``), or a category's normal training images. The result is passed to
the detector as ``teacher_weights=PATH`` and can be reused across categories.

    .venv/bin/python tools/distill_efficientad_teacher.py --images ../shared/data/mpdd/metal_plate/train/good \\
        --synthetic 0.3 --steps 300 --out teachers/efficientad_s_mobilenetv2.safetensors

Steps train on random ``--crop`` x ``--crop`` crops of the images resized to ``--image-size``
(the PDN sees 33x33 patches, so crops keep the detector's scale at a fraction of the cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from omniad.device import resolve_device, seed_everything
from omniad.errors import OmniadError
from omniad_vision.detectors.efficientad.augment import PenaltyImages, random_views
from omniad_vision.detectors.efficientad.teacher import distil_teacher, save_teacher
from omniad_vision.detectors.image_params import IMAGENET_MEAN, IMAGENET_STD
from omniad_vision.images import IMAGE_SUFFIXES
from omniad_vision.preprocess import load_unit_images
from omniad_vision.training import torch_generator


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="teacher file to write (.safetensors)")
    ap.add_argument("--images", type=Path, nargs="*", default=[], help="folders of images (searched recursively)")
    ap.add_argument("--synthetic", type=float, default=0.0, help="share of each batch drawn from procedural textures")
    ap.add_argument("--max-images", type=int, default=2000, help="cap on images loaded from the folders")
    ap.add_argument("--model-size", choices=["small", "medium"], default="small")
    ap.add_argument("--out-channels", type=int, default=None, help="default: min(384, backbone target channels)")
    ap.add_argument("--padding", action="store_true", help="padded PDN (must match the detector's `padding`)")
    ap.add_argument("--image-size", type=int, default=256, help="images are resized to this (the detector's image_size)")
    ap.add_argument("--crop", type=int, default=128, help="training crop side (0 = whole image)")
    ap.add_argument("--backbone", default="mobilenetv2_100")
    ap.add_argument("--backbone-weights", default="imagenet")
    ap.add_argument("--layers", nargs="+", default=["blocks.2", "blocks.4"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    device = resolve_device(args.device)
    generator = torch_generator(args.seed)
    size = (args.image_size, args.image_size)
    paths = sorted(p for d in args.images for p in Path(d).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    paths = paths[: args.max_images]
    if not paths and args.synthetic <= 0:
        print("no images: pass --images DIR and/or --synthetic SHARE", file=sys.stderr)
        return 2
    pool = load_unit_images([str(p) for p in paths], size, "distillation images") if paths else None
    textures = PenaltyImages("synthetic", size, "distillation") if args.synthetic > 0 else None
    crop = args.crop or None

    def draw(n: int) -> torch.Tensor:
        n_syn = n if pool is None else round(n * args.synthetic)
        parts = []
        if n - n_syn > 0:
            parts.append(pool[torch.randint(0, pool.shape[0], (n - n_syn,), generator=generator)])
        if n_syn > 0:
            parts.append(textures.draw(n_syn, generator))
        return random_views(torch.cat(parts), generator, min_scale=0.5, crop=crop)

    start = time.perf_counter()

    def log(step: int, loss: float) -> None:
        if step % 25 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss:.4f}  {time.perf_counter() - start:7.1f} s", flush=True)

    pdn, info = distil_teacher(
        draw, model_size=args.model_size, out_channels=args.out_channels, padding=args.padding, size=size,
        backbone=args.backbone, backbone_weights=args.backbone_weights, layers=tuple(args.layers),
        mean=IMAGENET_MEAN, std=IMAGENET_STD, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        device=device, where="distill_efficientad_teacher", log=log,
    )
    info.update(images=[str(d) for d in args.images], n_images=len(paths), synthetic=args.synthetic, crop=args.crop,
                seconds=round(time.perf_counter() - start, 1))
    out = save_teacher(args.out, pdn.cpu(), info)
    print(f"wrote {out} ({info['out_channels']} channels, final loss {info['final_loss']:.4f}, {info['seconds']} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OmniadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
