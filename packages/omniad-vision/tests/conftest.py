"""Vision tests run torch single-threaded: the CPU is shared, and OpenMP threads spinning on a
busy machine made small tensor ops up to 500x slower in our measurements."""

import torch

torch.set_num_threads(1)
