"""Registry cards for point cloud datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_pointcloud.datasets"
METRICS = ("core.auroc", "core.local_auroc", "pointcloud.aupro")
_PROBE = f"{_P}.probes"
#: a bare path (`omniad fit / score`): every cloud scored, the ones not labelled anomalous fitted on
ALL = {"path_param": "root", "source_params": {"split": "all"}}


def register(registry: Registrar) -> None:
    common = {"modality": "pointcloud", "localization": "point", "metrics": METRICS}
    registry.add(
        id="pointcloud.synthetic", target=f"{_P}.synthetic:Synthetic", params=f"{_P}.params:SyntheticParams",
        split_seed_param="seed",
        **common, demo=True,
        demo_params={"shapes": ["sphere"], "n_points": 1024, "n_train": 3, "n_test_normal": 2,
                     "n_test_per_defect": 2, "defects": ["bulge", "dent"]},
        summary="Seeded parametric shapes with bulge, dent, crack, hole and missing-part defects, labelled per point",
    )
    registry.add(
        id="pointcloud.mvtec3d", target=f"{_P}.mvtec3d:MVTec3D", params=f"{_P}.params:MVTec3DParams", **common,
        needs_data=True, reference="Bergmann et al., MVTec 3D-AD, VISAPP 2022",
        **ALL, reads=("/",), probe=f"{_PROBE}:mvtec3d",
        summary="MVTec 3D-AD layout: organised xyz TIFFs (zeros = missing), rgb and gt PNGs, one subset per category",
    )
    registry.add(
        id="pointcloud.real3d", target=f"{_P}.real3d:Real3D", params=f"{_P}.params:Real3DParams", **common,
        needs_data=True, reference="Liu et al., Real3D-AD, NeurIPS 2023 Datasets and Benchmarks",
        **ALL, reads=("/",), probe=f"{_PROBE}:real3d",
        summary="Real3D-AD layout: train templates (.pcd), test scans, gt/*.txt with x y z label per point",
    )
    registry.add(
        id="pointcloud.anomaly_shapenet", target=f"{_P}.shapenet:AnomalyShapeNet", params=f"{_P}.params:Real3DParams",
        **common, needs_data=True, reference="Li et al., Anomaly-ShapeNet (Towards Scalable 3D Anomaly Detection), CVPR 2024",
        **ALL, reads=("/",), probe=f"{_PROBE}:anomaly_shapenet",
        summary="Anomaly-ShapeNet layout: train templates, test clouds ('positive' = normal), GT/*.txt per point",
    )
    registry.add(
        id="pointcloud.folder", target=f"{_P}.folder:Folder", params=f"{_P}.params:FolderParams", **common,
        needs_data=True, **ALL, reads=("/", ".ply", ".pcd", ".npy", ".npz", ".xyz", ".txt", ".tiff", ".tif"),
        probe=f"{_PROBE}:folder",
        summary="Any folder of .ply/.pcd/.npy/.npz/.xyz/.txt clouds (train/good, test/<kind>, optional per-point "
        "ground_truth), or one cloud file",
    )
