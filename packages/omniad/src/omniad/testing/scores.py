"""One comparison for "the same input scored another way gives the same scores".

Scoring one sample alone, two in a batch, or in a fresh process can take different kernel
paths (AVX2 or AVX-512, another batch size, another reduction order), so a float32 network
agrees to about 1e-7 relative, not bit for bit: an exact comparison passed on the machine
that wrote it and failed on another. A wrong container or a wrong row gives scores that
differ by far more than this tolerance, which is what these tests are for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: relative and absolute tolerance: float32 rounding, several orders of magnitude under any real change
RTOL = 1e-5
ATOL = 1e-6


def assert_same_scores(actual: Any, desired: Any, err_msg: str = "") -> None:
    """Scores equal up to float32 rounding (see the module docstring for why not exactly)."""
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64),
                               rtol=RTOL, atol=ATOL, err_msg=err_msg)
