"""Parametric solids sampled uniformly over their surface, with outward normals.

The synthetic benchmark needs normal shapes whose surface is known exactly, so defects can
be placed and labelled per point. Sampling is uniform by area (rejection on the area
element where the parametrisation is not equal-area), so density does not vary over a
shape and cannot be mistaken for a defect. Triangle meshes (pyvista's shipped examples, when
pyvista is installed) are sampled the same way, by face area.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from omniad.errors import ConfigError

Sampler = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def sphere(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = _unit(rng.normal(size=(n, 3)))
    return p, p.copy()


def ellipsoid(rng: np.random.Generator, n: int, axes: tuple[float, float, float] = (1.0, 0.7, 0.5)):
    a = np.asarray(axes)
    out: list[np.ndarray] = []
    while sum(len(o) for o in out) < n:  # area element of the stretched sphere, by rejection
        u = _unit(rng.normal(size=(2 * n, 3)))
        w = np.linalg.norm(u / a * a.prod(), axis=1)
        out.append(u[rng.uniform(0, w.max(), len(u)) < w])
    u = np.concatenate(out)[:n]
    p = u * a
    return p, _unit(p / a**2)


def cylinder(rng: np.random.Generator, n: int, radius: float = 0.6, height: float = 1.6):
    side, cap = 2 * np.pi * radius * height, np.pi * radius**2
    k = rng.choice(3, size=n, p=np.array([side, cap, cap]) / (side + 2 * cap))
    t = rng.uniform(0, 2 * np.pi, n)
    p = np.zeros((n, 3))
    nrm = np.zeros((n, 3))
    s = k == 0
    p[s] = np.c_[radius * np.cos(t[s]), radius * np.sin(t[s]), rng.uniform(-height / 2, height / 2, s.sum())]
    nrm[s] = np.c_[np.cos(t[s]), np.sin(t[s]), np.zeros(s.sum())]
    for cap_id, z in ((1, height / 2), (2, -height / 2)):
        c = k == cap_id
        r = radius * np.sqrt(rng.uniform(0, 1, c.sum()))
        p[c] = np.c_[r * np.cos(t[c]), r * np.sin(t[c]), np.full(c.sum(), z)]
        nrm[c] = np.c_[np.zeros(c.sum()), np.zeros(c.sum()), np.full(c.sum(), np.sign(z))]
    return p, nrm


def torus(rng: np.random.Generator, n: int, major: float = 0.8, minor: float = 0.3):
    out_u, out_v = [], []
    while sum(len(o) for o in out_u) < n:  # area element (R + r cos v)
        u, v = rng.uniform(0, 2 * np.pi, 2 * n), rng.uniform(0, 2 * np.pi, 2 * n)
        keep = rng.uniform(0, major + minor, 2 * n) < major + minor * np.cos(v)
        out_u.append(u[keep])
        out_v.append(v[keep])
    u, v = np.concatenate(out_u)[:n], np.concatenate(out_v)[:n]
    nrm = np.c_[np.cos(v) * np.cos(u), np.cos(v) * np.sin(u), np.sin(v)]
    p = np.c_[(major + minor * np.cos(v)) * np.cos(u), (major + minor * np.cos(v)) * np.sin(u), minor * np.sin(v)]
    return p, nrm


def box(rng: np.random.Generator, n: int, size: tuple[float, float, float] = (1.4, 1.0, 0.6)):
    s = np.asarray(size) / 2
    areas = np.array([s[1] * s[2], s[1] * s[2], s[0] * s[2], s[0] * s[2], s[0] * s[1], s[0] * s[1]])
    face = rng.choice(6, size=n, p=areas / areas.sum())
    p = rng.uniform(-s, s, size=(n, 3))
    nrm = np.zeros((n, 3))
    axis, sign = face // 2, np.where(face % 2 == 0, 1.0, -1.0)
    p[np.arange(n), axis] = sign * s[axis]
    nrm[np.arange(n), axis] = sign
    return p, nrm


def cone(rng: np.random.Generator, n: int, radius: float = 0.7, height: float = 1.4):
    slant = np.hypot(radius, height)
    side, base = np.pi * radius * slant, np.pi * radius**2
    on_side = rng.uniform(0, side + base, n) < side
    t = rng.uniform(0, 2 * np.pi, n)
    f = np.sqrt(rng.uniform(0, 1, n))  # area grows linearly with distance from the apex
    p = np.where(
        on_side[:, None],
        np.c_[radius * f * np.cos(t), radius * f * np.sin(t), height / 2 - height * f],
        np.c_[radius * f * np.cos(t), radius * f * np.sin(t), np.full(n, -height / 2)],
    )
    side_n = _unit(np.c_[height * np.cos(t), height * np.sin(t), np.full(n, radius)])
    nrm = np.where(on_side[:, None], side_n, np.array([0.0, 0.0, -1.0]))
    return p, nrm


def capsule(rng: np.random.Generator, n: int, radius: float = 0.45, height: float = 1.1):
    """A cylinder of ``height`` closed by two hemispheres of ``radius``."""
    side, caps = 2 * np.pi * radius * height, 4 * np.pi * radius**2
    on_side = rng.uniform(0, side + caps, n) < side
    t = rng.uniform(0, 2 * np.pi, n)
    u = _unit(rng.normal(size=(n, 3)))
    nrm = np.where(on_side[:, None], np.c_[np.cos(t), np.sin(t), np.zeros(n)], u)
    z = np.where(on_side, rng.uniform(-height / 2, height / 2, n), np.sign(u[:, 2]) * height / 2)
    p = np.where(on_side[:, None], np.c_[radius * np.cos(t), radius * np.sin(t), z], radius * u + np.c_[0 * z, 0 * z, z])
    return p, nrm


def mesh_sampler(vertices: np.ndarray, faces: np.ndarray) -> Sampler:
    """A sampler of a triangle mesh's surface, uniform by area; normals follow the faces' winding.

    The mesh is centred and scaled to unit bounding radius, as the parametric solids are.
    """
    v = np.asarray(vertices, dtype=np.float64)
    v = v - (v.min(0) + v.max(0)) / 2
    v = v / max(float(np.linalg.norm(v, axis=1).max()), 1e-12)
    tri = v[np.asarray(faces, dtype=np.int64)]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    if area.sum() <= 0:
        raise ConfigError("the mesh has no area (all faces degenerate)")
    face_normals = cross / np.maximum(area, 1e-18)[:, None]

    def sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        f = rng.choice(len(tri), size=n, p=area / area.sum())
        a, b = rng.uniform(size=(2, n))
        flip = a + b > 1  # fold the unit square onto the triangle: uniform barycentric coordinates
        a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
        t = tri[f]
        return t[:, 0] + a[:, None] * (t[:, 1] - t[:, 0]) + b[:, None] * (t[:, 2] - t[:, 0]), face_normals[f]

    return sample


#: small meshes that ship inside the pyvista wheel (pyvista/examples/); pyvista is not a dependency
PYVISTA_MESHES = ("airplane", "ant", "nut", "sphere")


@functools.lru_cache(maxsize=8)
def pyvista_mesh(name: str) -> Sampler:
    """The sampler of mesh ``name`` from pyvista's examples folder, read without importing pyvista."""
    import importlib.util
    from pathlib import Path

    from omniad_pointcloud.io import read_ply_mesh

    if name not in PYVISTA_MESHES:
        raise ConfigError(f"unknown pyvista mesh {name!r}; choose from {PYVISTA_MESHES}")
    spec = importlib.util.find_spec("pyvista")
    if spec is None or spec.origin is None:
        raise ConfigError(f"shape 'pyvista:{name}' needs pyvista installed (its wheel ships the mesh); pip install pyvista")
    path = Path(spec.origin).parent / "examples" / f"{name}.ply"
    if not path.is_file():
        raise ConfigError(f"this pyvista has no {path}; use a parametric shape ({sorted(SHAPES)})")
    vertices, faces = read_ply_mesh(path)
    return mesh_sampler(vertices, faces)


def pyvista_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyvista") is not None


SHAPES: dict[str, Sampler] = {
    "sphere": sphere, "ellipsoid": ellipsoid, "cylinder": cylinder, "torus": torus, "box": box, "cone": cone,
    "capsule": capsule,
}


def sample_shape(
    name: str, n: int, rng: np.random.Generator, *, noise: float = 0.002, rotate: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on shape ``name`` (and their normals), with Gaussian noise of ``noise`` x unit scale.

    ``name`` is a parametric solid of :data:`SHAPES` or ``"pyvista:<mesh>"`` (:data:`PYVISTA_MESHES`).
    """
    if name.startswith("pyvista:"):
        sampler = pyvista_mesh(name.split(":", 1)[1])
    elif name in SHAPES:
        sampler = SHAPES[name]
    else:
        raise ConfigError(f"unknown shape {name!r}; choose from {sorted(SHAPES)} or 'pyvista:<mesh>' {PYVISTA_MESHES}")
    points, normals = sampler(rng, n)
    if rotate:
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        q *= np.sign(np.linalg.det(q))
        points, normals = points @ q.T, normals @ q.T
    points = points + rng.normal(scale=noise, size=points.shape)
    return points.astype(np.float32), _unit(normals).astype(np.float32)
