"""WinCLIP / WinCLIP+ detector on a transformers ``CLIPModel`` read from a local directory.

Zero-shot (``k_shot=0``): the image, every sliding window (2x2 and 3x3 patches by default)
and nothing else are compared with two text directions, the averaged embeddings of the
"normal" and "anomalous" prompt ensembles; the anomalous softmax probability at temperature
0.07 is the score. Window scores are spread to patches by harmonic averaging, and the
scales plus the whole-image score are combined by a harmonic mean. ``fit`` only validates
the images and embeds the prompts.

Few-shot WinCLIP+ (``k_shot=k``): the first k training images become references; each
window (per scale) and each final patch token scores ``(1 - max cosine)/2`` against the
references of its own kind, those maps are averaged, and the result is averaged with the
zero-shot map. The image score averages the zero-shot image score with the few-shot map's
maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad.state import Array, Module, declare
from omniad_vision.detectors.base import VisionDetector
from omniad_vision.detectors.clip.params import Params
from omniad_vision.detectors.clip.prompts import prompt_ensemble
from omniad_vision.detectors.clip.windows import harmonic_to_patches, window_indices
from omniad_vision.local_models import hf_model_dir, load_hf_model, read_model_type
from omniad_vision.preprocess import (
    as_hw,
    iter_batches,
    patch_grid,
    patch_scores_to_maps,
    score_images,
    to_tensor,
)


def load_clip(weights_dir: Path | None, where: str) -> tuple[Any, Any]:
    """``(CLIPModel, tokenizer)`` from a local directory, with errors that name the expected layout."""
    from transformers import AutoTokenizer, CLIPModel

    path = hf_model_dir(
        weights_dir, where, "CLIP", "clip-vit-base-patch16", " + tokenizer files (tokenizer.json or vocab.json + merges.txt)"
    )
    model_type = read_model_type(path, where)
    if model_type != "clip":
        raise DataError(
            f"{where}: {path} holds a {model_type or 'unknown'!r} model, not 'clip'; pass a CLIPModel directory "
            "(e.g. openai/clip-vit-base-patch16 saved with save_pretrained)"
        )
    has_tokenizer = (path / "tokenizer.json").is_file() or all((path / f).is_file() for f in ("vocab.json", "merges.txt"))
    if not has_tokenizer:  # transformers would build an empty tokenizer from config.json alone
        raise DataError(
            f"{where}: {path} has no CLIP tokenizer files (tokenizer.json, or vocab.json + merges.txt); save them "
            "there too: CLIPProcessor.from_pretrained(name).save_pretrained(dir)"
        )
    model = load_hf_model(CLIPModel, path, where, "CLIP")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise DataError(
            f"{where}: {path} has no usable CLIP tokenizer ({type(exc).__name__}); save it there too: "
            "CLIPProcessor.from_pretrained(name).save_pretrained(dir)"
        ) from None
    return model, tokenizer


def class_probability(embeddings: torch.Tensor, text: torch.Tensor, temperature: float) -> torch.Tensor:
    """Softmax probability of the anomalous direction (row 1 of ``text``) per embedding."""
    logits = F.normalize(embeddings, dim=-1) @ text.T / temperature
    return logits.softmax(dim=-1)[..., 1]


def association(embeddings: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """``(1 - max cosine similarity to any reference) / 2`` per embedding, in [0, 1]."""
    sims = F.normalize(embeddings, dim=-1) @ F.normalize(references, dim=-1).T
    return (1.0 - sims.amax(dim=-1)) / 2.0


class WinClipNet(nn.Module):
    """CLIP plus the window layout of one input size; encodes images, windows and prompts."""

    def __init__(self, clip: Any, params: Params, where: str) -> None:
        super().__init__()
        self.clip = clip
        vision = clip.config.vision_config
        self.patch = int(vision.patch_size)
        self.native = int(vision.image_size)
        self.size = as_hw(params.image_size) if params.image_size is not None else (self.native, self.native)
        self.grid = patch_grid(self.size, self.patch, where, "CLIP", self.native)
        self.params = params
        side = min(self.grid)
        default = type(params).model_fields["scales"].default
        # window_indices shrinks a window to the grid; only the default may rely on that
        if params.scales and params.scales != default and max(params.scales) > side:
            raise ConfigError(
                f"{where}: scales={tuple(params.scales)} but the CLIP patch grid of this input is "
                f"{self.grid[0]}x{self.grid[1]}; use windows of at most {side} patches"
            )
        self.windows = [window_indices(self.grid, k) for k in params.scales]

    def text_directions(self, tokenizer: Any, device: str) -> torch.Tensor:
        """(2, D): normalised mean embedding of the normal and of the anomalous prompt ensemble."""
        p = self.params
        groups = prompt_ensemble(p.object_name, p.normal_states, p.anomalous_states, p.templates)
        limit = int(self.clip.config.text_config.max_position_embeddings)
        out = []
        for prompts in groups:
            tokens = tokenizer(prompts, padding=True, truncation=True, max_length=limit, return_tensors="pt").to(device)
            with torch.no_grad():
                pooled = self.clip.text_model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).pooler_output
                emb = F.normalize(self.clip.text_projection(pooled), dim=-1)
            out.append(F.normalize(emb.mean(dim=0), dim=-1))
        return torch.stack(out)

    def _finish(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Embedded tokens -> projected class-token embedding (the rest of CLIP's vision tower)."""
        vm = self.clip.vision_model
        hidden = vm.encoder(inputs_embeds=vm.pre_layrnorm(embeddings)).last_hidden_state
        return self.clip.visual_projection(vm.post_layernorm(hidden[:, 0]))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Image (B, D), patch (B, N, D) and per-scale window (B, n_windows, D) embeddings."""
        vm = self.clip.vision_model
        tokens = vm.embeddings(x, interpolate_pos_encoding=tuple(x.shape[-2:]) != (self.native, self.native))
        hidden = vm.encoder(inputs_embeds=vm.pre_layrnorm(tokens)).last_hidden_state
        image = self.clip.visual_projection(vm.post_layernorm(hidden[:, 0]))
        patches = self.clip.visual_projection(vm.post_layernorm(hidden[:, 1:]))
        b, width = tokens.shape[0], tokens.shape[-1]
        windows = []
        for idx in self.windows:
            idx = idx.to(x.device)
            n_w = idx.shape[0]
            body = tokens[:, 1:][:, idx.reshape(-1)].reshape(b * n_w, idx.shape[1], width)
            cls = tokens[:, :1].expand(b, n_w, width).reshape(b * n_w, 1, width)
            seqs = torch.cat([cls, body], dim=1)
            chunk = self.params.window_batch
            emb = torch.cat([self._finish(seqs[i : i + chunk]) for i in range(0, seqs.shape[0], chunk)])
            windows.append(emb.reshape(b, n_w, -1))
        return image, patches, windows


class WinCLIP(VisionDetector):
    """WinCLIP zero-shot / WinCLIP+ few-shot (Jeong et al., CVPR 2023), window-based variant."""

    Params = Params
    #: the two text directions (e = CLIP's projection width) and, few-shot, the reference embeddings:
    #: ``ref.patches`` and one ``ref.windows_<k>`` per scale (checked in ``check_state``)
    state_spec = declare({"text": Array(2, "e"), "ref.patches": Array("r", "e", optional=True), "ref": Module(optional=True)})

    def check_state(self, state: dict[str, Any]) -> None:
        p: Params = self.params
        refs = sorted(k[4:] for k in state if k.startswith("ref."))
        wanted = sorted(["patches", *(f"windows_{k}" for k in p.scales)]) if p.k_shot else []
        if refs != wanted:
            raise DataError(f"{self.where}: saved references {refs} but k_shot={p.k_shot} with scales={list(p.scales)} "
                            f"needs {wanted}; re-save the model")
        width = state["text"].shape[1]
        for key in (k for k in state if k.startswith("ref.")):
            value = state[key]
            if value.ndim != 2 or value.shape[1] != width or value.dtype.kind != "f":
                raise DataError(f"{self.where}: saved {key!r} has shape {value.shape}, not (n, {width}) floats like "
                                "'text'; re-save the model")

    def _net(self, where: str) -> WinClipNet:
        if getattr(self, "_loaded", None) is None:
            clip, tokenizer = load_clip(self.params.weights_dir, where)
            self._loaded = (WinClipNet(clip, self.params, where).to(self.device).eval(), tokenizer)
        return self._loaded[0]

    def _fit(self, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        if p.k_shot > len(samples):
            raise DataError(f"{where}: k_shot={p.k_shot} but only {len(samples)} training images; lower k_shot")
        net = self._net(where)
        self.text_ = net.text_directions(self._loaded[1], self.device).cpu().numpy()
        self.references_: dict[str, np.ndarray] = {}
        refs: list[tuple[torch.Tensor, list[torch.Tensor]]] = []
        for start, images in iter_batches(samples, p.batch_size, where):  # validates every image
            if start < p.k_shot:
                x = to_tensor(images[: p.k_shot - start], net.size, p.mean, p.std, self.device)
                with torch.no_grad():
                    _, patches, windows = net.encode(x)
                refs.append((patches, windows))
        if refs:
            self.references_["patches"] = torch.cat([r[0] for r in refs]).flatten(0, 1).cpu().numpy()
            for i, k in enumerate(p.scales):
                self.references_[f"windows_{k}"] = torch.cat([r[1][i] for r in refs]).flatten(0, 1).cpu().numpy()

    def _score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(image scores (B,), maps (B, H, W) at model input size)`` of a normalised batch."""
        p: Params = self.params
        net = self._net(f"{self.where}.score")
        text = torch.from_numpy(self.text_).to(x.device)
        image, patches, windows = net.encode(x)
        n = net.grid[0] * net.grid[1]
        image_score = class_probability(image, text, p.temperature)
        scale_maps = [
            harmonic_to_patches(class_probability(w, text, p.temperature), idx, n)
            for w, idx in zip(windows, net.windows, strict=True)
        ] or [class_probability(patches, text, p.temperature)]
        inverse = sum(1.0 / m.clamp_min(1e-12) for m in scale_maps) + 1.0 / image_score.clamp_min(1e-12)[:, None]
        patch_map = (len(scale_maps) + 1) / inverse
        if self.references_:
            ref = {k: torch.from_numpy(v).to(x.device) for k, v in self.references_.items()}
            few = [association(patches, ref["patches"])]
            few += [
                harmonic_to_patches(association(w, ref[f"windows_{k}"]), idx, n)
                for w, idx, k in zip(windows, net.windows, p.scales, strict=True)
            ]
            few_map = torch.stack(few).mean(dim=0)
            patch_map = (patch_map + few_map) / 2
            image_score = (image_score + few_map.amax(dim=1)) / 2
        return image_score, patch_scores_to_maps(patch_map.reshape(-1, *net.grid), net.size, p.sigma)

    def _score(self, samples: Sequence[Any]) -> Scores:
        net = self._net(f"{self.where}.score")
        return score_images(samples, self.params, self.device, f"{self.where}.score", self._score_batch, size=net.size)

    # -- persistence: prompts' text directions and few-shot references; CLIP stays in weights_dir
    def get_state(self) -> dict[str, Any]:
        return {"text": self.text_, **{f"ref.{k}": v for k, v in self.references_.items()}}

    def set_state(self, state: dict[str, Any]) -> None:
        """Loads CLIP from ``weights_dir`` now, so embeddings of another width fail here, not at score."""
        unknown = [k for k in state if k != "text" and not k.startswith("ref.")]
        if unknown:
            raise DataError(f"{self.where}: saved state entry {unknown[0]!r} is not part of this detector's state")
        width = int(self._net(f"{self.where}.load").clip.config.projection_dim)
        if state["text"].shape[1] != width:
            raise DataError(f"{self.where}: saved text directions are {state['text'].shape[1]}-wide but the CLIP in "
                            f"{self.params.weights_dir} projects to {width}; re-save the model with this CLIP")
        self.text_ = np.asarray(state["text"], dtype=np.float32)
        self.references_ = {k[4:]: np.asarray(v, dtype=np.float32) for k, v in state.items() if k.startswith("ref.")}
