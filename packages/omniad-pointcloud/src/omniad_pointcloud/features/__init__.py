"""Geometric features: neighbourhoods (``neighbours``, ``pairs``), normals (``normals``), FPFH (``fpfh``).

Torch tensors in and out; NumPy/scipy underneath on a CPU (``pairs``, ``fpfh_cpu``), torch on
CUDA. Import the functions from their modules.
"""
