"""Geometric features in torch: neighbourhoods (``neighbours``), normals (``normals``), FPFH (``fpfh``).

Batched and on CUDA when the tensors are; import the functions from their modules.
"""
