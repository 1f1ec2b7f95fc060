"""What the torch time-series detectors share: scaling, device, training, persistence.

A subclass says how many timesteps one example spans, builds its ``nn.Module``, trains it
on the scaled training series and turns one scaled series into per-timestep scores (and
per-variable scores where the method has them). Sample score = max of the local scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import numpy as np
import torch

from omniad.device import torch_cpu_threads
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_timeseries.detectors.base import SeriesDetector
from omniad_timeseries.detectors.neural.scaling import apply_scaler, fit_scaler
from omniad_timeseries.detectors.neural.training import (
    LossFn,
    WindowSet,
    fit_loop,
    require_windows,
    split_tail,
)

MODULE_PREFIX = "module"


def positive(state: dict[str, Any], *keys: str) -> None:
    """Raise DataError unless the saved arrays ``keys`` are all > 0 (scales the scores are divided by)."""
    for key in keys:
        if not np.all(state[key] > 0):
            raise DataError(f"saved state {key!r} must be positive (it divides the series or the scores); "
                            "re-save the model")


class NeuralDetector(SeriesDetector):
    """Base of the torch detectors in this package (not registered itself).

    ``SeriesDetector`` (shared with the classic detectors) validates the series, keeps the
    channel count and assembles ``Scores``; this class adds scaling, the module and its
    training, and persistence of the module's tensors.
    """

    #: fitted attributes saved besides the module, scaler and channel count (each declared in state_spec)
    extra_state: ClassVar[tuple[str, ...]] = ()
    #: the network's shapes are checked by ``load_state_dict(strict=True)`` in ``set_state``
    state_spec = declare({"offset_": Array("c"), "scale_": Array("c"), MODULE_PREFIX: Module()})

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

    # -- SeriesDetector hooks --------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def min_length(self) -> int:
        return self.span()

    def _threads(self) -> AbstractContextManager[None]:
        return torch_cpu_threads(self.params.cpu_threads, self.torch_device)

    def _fit(self, samples: Sequence[Any]) -> None:
        with self._threads():
            super()._fit(samples)

    def _score(self, samples: Sequence[Any]) -> Scores:
        with self._threads():
            return super()._score(samples)

    def _fit_series(self, series: list[np.ndarray]) -> None:
        self.offset_, self.scale_ = fit_scaler(series, self.params.normalize)
        scaled = [apply_scaler(x, self.offset_, self.scale_) for x in series]
        self.module_ = self.build_module(self.n_channels_).to(self.torch_device)
        self.train_module(scaled)
        self.module_.eval()

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        self.module_.eval()
        return self.score_series(apply_scaler(x, self.offset_, self.scale_))

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
            where=f"{self.where}.fit", drop_last=drop_last, progress=self.report_progress,
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

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        positive(state, "scale_")

    def set_state(self, state: dict[str, Any]) -> None:
        self.n_channels_ = int(state["n_channels_"])
        self.offset_ = np.asarray(state["offset_"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale_"], dtype=np.float64)
        for name in self.extra_state:
            setattr(self, name, state[name])
        self.module_ = self.build_module(self.n_channels_)
        load_module_arrays(self.module_, state, MODULE_PREFIX)
        self.module_.to(self.torch_device).eval()
