"""Vision tests run torch and BLAS single-threaded: the CPU is shared, and OpenMP/BLAS threads
spinning on a busy machine made small tensor and matrix ops up to 500x slower in our
measurements, while one thread loses nothing on test-sized inputs."""

import torch
from threadpoolctl import threadpool_limits

torch.set_num_threads(1)
threadpool_limits(1)
