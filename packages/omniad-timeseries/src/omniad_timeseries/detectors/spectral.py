"""Spectral residual (SR): what stays in the log-amplitude spectrum after removing its local average.

TSB-AD's variant (its SR detector): min-max scale the series, take the FFT, subtract a
moving average of ``amp_window`` frequencies from the log amplitude, transform back with
the original phase; the magnitude of the result (the saliency map) is the score. With
``score_window > 0`` the saliency is taken relative to its trailing mean, the final step of
Ren et al. (KDD 2019). TSB-AD pads the spectrum's moving average with time-domain values;
here the ends are padded with the edge values of the spectrum itself.
"""

from __future__ import annotations

import numpy as np

from omniad_timeseries.detectors.base import SeriesDetector
from omniad_timeseries.detectors.params import SRParams

EPS = 1e-12


def saliency(x: np.ndarray, amp_window: int) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros(x.size)
    x = (x - lo) / (hi - lo)
    spectrum = np.fft.fft(x)
    log_amp = np.log(np.maximum(np.abs(spectrum), EPS))
    phase = np.angle(spectrum)
    half = log_amp[1 : 1 + x.size // 2]
    width = min(amp_window, half.size)
    padded = np.pad(half, ((width - 1) // 2, width - 1 - (width - 1) // 2), mode="edge")
    smooth_half = np.convolve(padded, np.ones(width) / width, mode="valid")
    smooth = log_amp.copy()
    smooth[1 : 1 + half.size] = smooth_half
    mirror = smooth_half[: (x.size - 1) // 2][::-1]
    smooth[x.size - mirror.size :] = mirror
    return np.abs(np.fft.ifft(np.exp(log_amp - smooth + 1j * phase)))


def relative_to_trailing_mean(s: np.ndarray, width: int) -> np.ndarray:
    csum = np.r_[0.0, np.cumsum(s)]
    t = np.arange(s.size)
    lo = np.maximum(0, t - width)
    mean = np.where(t > lo, (csum[t] - csum[lo]) / np.maximum(t - lo, 1), s)
    return np.abs(s - mean) / (mean + EPS)


class SR(SeriesDetector):
    Params = SRParams
    per_channel = True

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        half = x.size // 2
        amp_window = self._limit("amp_window", self.params.amp_window, half, f"a series of {x.size} timesteps has {half} frequencies")
        s = saliency(x, amp_window)
        return relative_to_trailing_mean(s, self.params.score_window) if self.params.score_window > 0 else s
