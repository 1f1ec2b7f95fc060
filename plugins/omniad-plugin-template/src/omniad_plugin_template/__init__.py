"""An omniad plugin template: copy this package, rename it, replace the three components.

Importing the package imports nothing but this line, so omniad's plugin discovery stays fast.
"""

__version__ = "0.1.0"
