"""What the torch time-series detectors share: input checks, scaling, device, persistence.

A subclass says how many timesteps one example spans, builds its ``nn.Module``, trains it
on the scaled training series and turns one scaled series into per-timestep scores (and
per-variable scores where the method has them). Sample score = max of the local scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_timeseries.detectors.neural.scaling import apply_scaler, fit_scaler
from omniad_timeseries.detectors.neural.training import (
    LossFn,
    WindowSet,
    fit_loop,
    require_windows,
    split_tail,
)
from omniad_timeseries.series import as_series

MODULE_PREFIX = "module"


class NeuralDetector(Detector):
    """Base of the torch detectors in this package (not registered itself)."""

    #: fitted attributes saved besides the module, scaler and channel count
    extra_state: ClassVar[tuple[str, ...]] = ()

    # -- what subclasses provide ---------------------------------------------------------
    def span(self) -> int:
        """Timesteps one training example covers; the shortest series the detector accepts."""
        return int(self.params.window)

    def build_module(self, n_channels: int) -> torch.nn.Module:
        raise NotImplementedError

    def train_module(self, series: list[np.ndarray]) -> None:
        """Train ``self.module_`` on scaled (T, C) float32 training series."""
        raise NotImplementedError

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Local scores (T,) and per-variable scores (T, C) or None for one scaled series."""
        raise NotImplementedError

    # -- the detector contract -----------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def _series(self, samples: Sequence[Any], where: str, n_channels: int | None) -> list[np.ndarray]:
        out = []
        for i, sample in enumerate(samples):
            x = as_series(sample, f"{where}, series {i}", min_length=self.span(), n_channels=n_channels)
            if n_channels is None and out and x.shape[1] != out[0].shape[1]:
                raise DataError(
                    f"{where}, series {i}: has {x.shape[1]} channels but series 0 has {out[0].shape[1]}; "
                    "all training series must have the same channels"
                )
            out.append(x)
        return out

    def _fit(self, samples: Sequence[Any]) -> None:
        series = self._series(samples, f"{self.where}.fit", None)
        self.n_channels_ = int(series[0].shape[1])
        self.offset_, self.scale_ = fit_scaler(series, self.params.normalize)
        scaled = [apply_scaler(x, self.offset_, self.scale_) for x in series]
        self.module_ = self.build_module(self.n_channels_).to(self.torch_device)
        self.train_module(scaled)
        self.module_.eval()

    def _score(self, samples: Sequence[Any]) -> Scores:
        series = self._series(samples, f"{self.where}.score", self.n_channels_)
        local, per_variable = [], []
        self.module_.eval()
        for x in series:
            scores, per_var = self.score_series(apply_scaler(x, self.offset_, self.scale_))
            local.append(np.asarray(scores, dtype=np.float64))
            per_variable.append(per_var)
        extras = {}
        if self.n_channels_ > 1 and all(p is not None for p in per_variable):
            extras["per_variable"] = per_variable
        sample = np.array([s.max() for s in local])
        return Scores(sample=sample, local=local, extras=extras)

    # -- training helpers ----------------------------------------------------------------
    def run_training(
        self,
        series: list[np.ndarray],
        loss_fn: LossFn,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        *,
        drop_last: bool = False,
        stride: int = 1,
        on_step: Any = None,
    ) -> list[float]:
        """Split off the validation tail, build windows and run the early-stopped loop."""
        p = self.params
        train_part, val_part = split_tail(series, p.validation_size)
        train = WindowSet(train_part, self.span(), self.torch_device, stride=stride)
        require_windows(train, f"{self.where}.fit", self.span(), p.validation_size)
        val = WindowSet(val_part, self.span(), self.torch_device, stride=stride) if val_part else None
        self.history_ = fit_loop(
            self.module_, train, val, loss_fn, optimizer, scheduler,
            epochs=p.epochs, batch_size=p.batch_size, patience=p.patience,
            where=f"{self.where}.fit", drop_last=drop_last, on_step=on_step,
        )
        return self.history_

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "n_channels_": self.n_channels_,
            "offset_": self.offset_,
            "scale_": self.scale_,
            **module_arrays(self.module_, MODULE_PREFIX),
        }
        state.update({name: getattr(self, name) for name in self.extra_state})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.n_channels_ = int(state["n_channels_"])
        self.offset_ = np.asarray(state["offset_"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale_"], dtype=np.float64)
        for name in self.extra_state:
            setattr(self, name, state[name])
        self.module_ = self.build_module(self.n_channels_)
        load_module_arrays(self.module_, state, MODULE_PREFIX)
        self.module_.to(self.torch_device).eval()
