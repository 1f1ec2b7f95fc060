"""Registry and cards: ids, lazy targets, parameter validation, helpful errors."""

from __future__ import annotations

import pytest

import omniad
from omniad.errors import ConfigError, DuplicateComponentError, MissingDependencyError, UnknownComponentError
from omniad.registry import DetectorCard, Registrar, Registry


def card(**kw) -> DetectorCard:
    base = {"id": "x.det", "target": "omniad.builtins.tabular_detectors:KNN", "modality": "tabular", "summary": "s"}
    return DetectorCard(**{**base, **kw})


def test_card_validation() -> None:
    with pytest.raises(ValueError, match="lowercase and dotted"):
        card(id="NoPrefix")
    with pytest.raises(ValueError, match="module:attr"):
        card(target="not a target")
    with pytest.raises(ValueError):
        card(unknown_field=1)


def test_duplicate_id_names_both_plugins() -> None:
    registry = Registry()
    registry.add(card(), plugin="a")
    with pytest.raises(DuplicateComponentError, match="by plugin 'a' and by plugin 'b'"):
        registry.add(card(), plugin="b")


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(UnknownComponentError, match="did you mean 'core.knn'"):
        omniad.get_registry().get("detector", "core.knnn")


def test_targets_are_lazy_and_errors_clear() -> None:
    registry = Registry()
    entry = registry.add(card(target="no_such_module_xyz:Thing"), plugin="p")  # no import at registration
    with pytest.raises(MissingDependencyError, match="cannot import 'no_such_module_xyz'"):
        entry.load()
    entry = registry.add(card(id="x.req", requires=("no_such_dep_xyz",)), plugin="p")
    with pytest.raises(MissingDependencyError, match="pip install no_such_dep_xyz"):
        entry.load()


def test_parameters_validated_with_allowed_list() -> None:
    entry = omniad.get_registry().get("detector", "core.knn")
    with pytest.raises(ConfigError, match="unknown parameter 'n_neighbours'.*allowed parameters: block_mb, chunk_size, method, n_neighbors"):
        entry.validate_params({"n_neighbours": 3})
    with pytest.raises(ConfigError, match="n_neighbors"):
        entry.validate_params({"n_neighbors": 0})
    assert entry.validate_params({"n_neighbors": 3}).n_neighbors == 3


def test_registrar_checks_kind() -> None:
    from omniad.registry import MetricCard

    registrar = Registrar(Registry(), "detector", "p", None)
    with pytest.raises(ConfigError, match="register it from omniad_register_metrics"):
        registrar.add(MetricCard(id="x.m", target="a:b", modality="any", summary="s"))
    with pytest.raises(ConfigError, match="invalid detector card 'BAD'"):
        registrar.add(id="BAD", target="a:b", modality="x", summary="s")
