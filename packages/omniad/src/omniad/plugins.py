"""Plugin discovery: entry-point group ``omniad``, each plugin loaded in isolation.

One broken plugin (a CUDA mismatch, a missing dependency, a bug in its hook) is recorded
with its error and skipped, so ``omniad`` keeps working with the others; ``omniad plugins``
shows what failed. Strict mode turns any such failure into an error, for CI.

Environment switches:

- ``OMNIAD_DISABLE_PLUGINS=a,b``: skip these plugins (entry-point names).
- ``OMNIAD_LOAD_PLUGINS=a,b``: load only these plugins; empty means none.
- ``OMNIAD_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points at all (built-ins only).
- ``OMNIAD_STRICT_PLUGINS=1``: a plugin that fails to load or register raises.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from omniad import hookspecs
from omniad.errors import OmniadError, PluginLoadError
from omniad.registry import KINDS, Kind, Registrar, Registry

ENTRY_POINT_GROUP = "omniad"
BUILTIN_NAME = "omniad"
ENV_DISABLE = "OMNIAD_DISABLE_PLUGINS"
ENV_LOAD = "OMNIAD_LOAD_PLUGINS"
ENV_NO_AUTOLOAD = "OMNIAD_DISABLE_PLUGIN_AUTOLOAD"
ENV_STRICT = "OMNIAD_STRICT_PLUGINS"


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {item.strip() for item in raw.split(",") if item.strip()}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class PluginInfo:
    """What ``omniad plugins`` reports for one plugin."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"  # builtin | loaded | partial | failed | disabled
    error: str | None = None
    traceback: str | None = field(default=None, repr=False)
    components: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "components": self.components,
        }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


class PluginManager:
    """A typed facade over pluggy: loads plugins one by one and builds the registry."""

    def __init__(self, *, autoload: bool | None = None, strict: bool | None = None) -> None:
        self.strict = _env_flag(ENV_STRICT) if strict is None else strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        from omniad import builtins
        from omniad.version import __version__

        self.register(builtins, name=BUILTIN_NAME, distribution="omniad", version=__version__, status="builtin")
        if autoload is None:
            autoload = not _env_flag(ENV_NO_AUTOLOAD)
        if autoload:
            self.load_entry_points()

    # -- loading ------------------------------------------------------------------------
    def register(
        self,
        plugin: ModuleType | object,
        *,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
        status: str = "loaded",
    ) -> PluginInfo:
        module = getattr(plugin, "__name__", type(plugin).__name__)
        info = PluginInfo(name=name, module=module, distribution=distribution, version=version, status=status)
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:  # a hookimpl with an unknown name or bad signature
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(info, exc)
        self.plugins[name] = info
        return info

    def load_entry_points(self) -> None:
        only = _env_list(ENV_LOAD)
        disabled = _env_list(ENV_DISABLE) or set()
        seen: set[str] = set()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            if ep.name in disabled or (only is not None and ep.name not in only):
                self.plugins[ep.name] = PluginInfo(
                    name=ep.name, module=ep.value, distribution=dist, version=version, status="disabled"
                )
                continue
            self._load_one(ep, dist, version)

    def _load_one(self, ep: EntryPoint, dist: str | None, version: str | None) -> None:
        if ep.name in self.plugins:
            info = PluginInfo(name=ep.name, module=ep.value, distribution=dist, version=version)
            self._fail(info, PluginLoadError(f"plugin name {ep.name!r} is already taken by {self.plugins[ep.name].module}"))
            return
        try:
            module = ep.load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            info = PluginInfo(name=ep.name, module=ep.value, distribution=dist, version=version)
            self.plugins[ep.name] = info
            self._fail(info, exc)
            return
        self.register(module, name=ep.name, distribution=dist, version=version)

    def _fail(self, info: PluginInfo, exc: BaseException, *, status: str = "failed") -> None:
        info.status = status
        info.error = "; ".join(filter(None, [info.error, _one_line(exc)]))
        info.traceback = "".join(traceback.format_exception(exc))
        if self.strict:
            raise PluginLoadError(
                f"plugin {info.name!r} ({info.module}) failed: {info.error}; "
                f"fix or uninstall it, or set {ENV_DISABLE}={info.name}"
            ) from exc

    # -- registry -----------------------------------------------------------------------
    def build_registry(self) -> Registry:
        """Call each plugin's hooks separately so one failure cannot hide the others."""
        registry = Registry()
        order = sorted(self.plugins.values(), key=lambda p: (p.status != "builtin", p.name))
        for kind in KINDS:
            hook = getattr(self.pm.hook, f"omniad_register_{kind}s")
            impls = {impl.plugin_name: impl for impl in hook.get_hookimpls()}
            for info in order:
                impl = impls.get(info.name)
                if impl is None or info.status == "failed":
                    continue
                self._call(registry, kind, info, impl.function)
        return registry.freeze()

    def _call(self, registry: Registry, kind: Kind, info: PluginInfo, function: Any) -> None:
        staging = Registry()
        registrar = Registrar(staging, kind, info.name, info.version)
        try:
            function(registry=registrar)
        except Exception as exc:
            self._fail(info, exc)
            return
        for entry in staging.list(kind):
            try:
                registry.add(entry.card, plugin=info.name, plugin_version=info.version)
            except OmniadError as exc:  # duplicate id: the first registration wins
                self._fail(info, exc, status="partial")
                continue
            info.components.setdefault(kind, []).append(entry.id)


_manager: PluginManager | None = None
_registry: Registry | None = None


def get_plugin_manager() -> PluginManager:
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = get_plugin_manager().build_registry()
    return _registry


def reset(manager: PluginManager | None = None) -> None:
    """Forget the cached manager and registry (tests, or after installing a plugin)."""
    global _manager, _registry
    _manager = manager
    _registry = None
