"""Plugin discovery: entry-point group ``omniad``, each plugin loaded in isolation.

One broken plugin (a CUDA mismatch, a missing dependency, a bug in its hook) is recorded
with its error and skipped, so ``omniad`` keeps working with the others; ``omniad plugins``
shows what failed. Strict mode turns any such failure into an error, for CI.

Registration is all or nothing per plugin: its three hooks fill a staging registry, which
is committed only if every hook succeeded and no id clashes, so a half-registered plugin
(detectors present, metrics missing) never exists. Each plugin owns id prefixes: those its
module declares in ``OMNIAD_PREFIXES``, else its entry-point name; the built-ins own
``core``. A prefix that is the name of another installed plugin is reserved for that
plugin, and a prefix already owned is refused, so no plugin can shadow another's ids.

A plugin that calls ``os._exit`` while it is imported or registers fails like any other
(``crashmarks.exits_raise``). One that ends the process in a way nothing can catch (a crash
in native code, a kill) is named by a crash mark (``omniad.crashmarks``) to the next process
that starts, on stderr and in ``PluginManager.crash_notes``; that process first loads it
alone in a child process (``_probe``), and leaves it out if the child dies too, so one such
plugin costs one failed command, not all of them. While plugins load, ``faulthandler``
prints the Python stack of a native crash, which names the plugin's module at once.

Environment switches:

- ``OMNIAD_DISABLE_PLUGINS=a,b``: skip these plugins (entry-point names).
- ``OMNIAD_LOAD_PLUGINS=a,b``: load only these plugins; empty means none.
- ``OMNIAD_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points at all (built-ins only).
- ``OMNIAD_STRICT_PLUGINS=1``: a plugin that fails to load or register raises.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from omniad import hookspecs
from omniad.crashmarks import CrashMark, ExitCalled, cache_dir, exits_raise
from omniad.errors import DuplicateComponentError, PluginLoadError
from omniad.registry import KINDS, Kind, Registrar, Registry

ENTRY_POINT_GROUP = "omniad"
BUILTIN_NAME = "omniad"
BUILTIN_PREFIXES = ("core",)
PREFIXES_ATTRIBUTE = "OMNIAD_PREFIXES"
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")  # the first part of a component id
ENV_DISABLE = "OMNIAD_DISABLE_PLUGINS"
ENV_LOAD = "OMNIAD_LOAD_PLUGINS"
ENV_NO_AUTOLOAD = "OMNIAD_DISABLE_PLUGIN_AUTOLOAD"
ENV_STRICT = "OMNIAD_STRICT_PLUGINS"
#: seconds a test load of a plugin that ended an earlier process may take (a torch import is slow)
PROBE_TIMEOUT_S = 300.0


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
    status: str = "loaded"  # builtin | loaded | failed | disabled
    error: str | None = None
    traceback: str | None = field(default=None, repr=False)
    components: dict[str, list[str]] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "components": self.components,
            "prefixes": list(self.prefixes),
        }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def declared_prefixes(plugin: ModuleType | object, name: str, declared: Any = None) -> tuple[str, ...]:
    """The id prefixes a plugin claims: ``declared``, else its module's ``OMNIAD_PREFIXES``,
    else its entry-point name; checked here because a bare string would claim its letters."""
    module = getattr(plugin, "__name__", type(plugin).__name__)
    if declared is None:
        declared = getattr(plugin, PREFIXES_ATTRIBUTE, None)
    if declared is None:
        if not PREFIX_PATTERN.match(name):
            suggestion = re.sub(r"[^a-z0-9_]", "_", name.lower())
            raise PluginLoadError(
                f"plugin name {name!r} is not a valid id prefix (lowercase letters, digits, '_'); "
                f"declare {PREFIXES_ATTRIBUTE} = ({suggestion!r},) in {module}"
            )
        return (name,)
    if isinstance(declared, str) or not isinstance(declared, (tuple, list)) or not declared:
        raise PluginLoadError(
            f"{module}.{PREFIXES_ATTRIBUTE} must be a non-empty tuple of prefixes such as "
            f"({name!r},), not {declared!r}"
        )
    bad = [p for p in declared if not isinstance(p, str) or not PREFIX_PATTERN.match(p)]
    if bad:
        raise PluginLoadError(
            f"{module}.{PREFIXES_ATTRIBUTE}: {', '.join(repr(b) for b in bad)} is not a valid id "
            "prefix; use lowercase letters, digits and '_', starting with a letter"
        )
    return tuple(dict.fromkeys(declared))


class PluginManager:
    """A typed facade over pluggy: loads plugins one by one and builds the registry."""

    def __init__(self, *, autoload: bool | None = None, strict: bool | None = None) -> None:
        self.strict = _env_flag(ENV_STRICT) if strict is None else strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        from omniad import builtins
        from omniad.version import __version__

        self.register(
            builtins,
            name=BUILTIN_NAME,
            distribution="omniad",
            version=__version__,
            status="builtin",
            prefixes=BUILTIN_PREFIXES,
        )
        if autoload is None:
            autoload = not _env_flag(ENV_NO_AUTOLOAD)
        #: what processes that died while loading plugins were loading (one line each, also on stderr)
        self.crash_notes: list[str] = []
        self._mark: CrashMark | None = None
        self._suspects: set[str] = set()  # plugins that ended an earlier process: test-loaded apart first
        if autoload:
            self._mark = CrashMark(cache_dir() / "loading")
            self._report_dead_loads()
            try:
                with _native_crashes_shown():
                    self.load_entry_points()
            finally:
                self._mark.clear()

    def _report_dead_loads(self) -> None:
        """Say which plugin an earlier process was loading when it died without a word."""
        assert self._mark is not None
        for dead in self._mark.dead():
            name = dead.get("plugin", "?")
            self._suspects.add(name)
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(dead.get("since", 0))))
            note = (
                f"warning: an earlier omniad process (pid {dead.get('pid')}, {when}) ended without a word "
                f"while {dead.get('step', 'loading')} plugin {name!r} ({dead.get('module', '?')}): the plugin "
                f"most likely ended it (a crash in native code, a kill); it is test-loaded alone in a child "
                f"process first and left out if that dies too; to skip it, set {ENV_DISABLE}={name}"
            )
            self.crash_notes.append(note)
            print(note, file=sys.stderr)

    # -- loading ------------------------------------------------------------------------
    def register(
        self,
        plugin: ModuleType | object,
        *,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
        status: str = "loaded",
        prefixes: tuple[str, ...] | None = None,
    ) -> PluginInfo:
        """Register a plugin object; ``prefixes`` overrides what its module declares."""
        module = getattr(plugin, "__name__", type(plugin).__name__)
        info = PluginInfo(name=name, module=module, distribution=distribution, version=version, status=status)
        try:
            info.prefixes = declared_prefixes(plugin, name, prefixes)
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
            self._fail(
                info,
                PluginLoadError(
                    f"plugin name {ep.name!r} is already taken by {self.plugins[ep.name].module}"
                ),
            )
            return
        if ep.name in self._suspects and (death := _probe(ep.name)) is not None:
            info = PluginInfo(name=ep.name, module=ep.value, distribution=dist, version=version)
            self.plugins[ep.name] = info
            self._fail(
                info,
                PluginLoadError(
                    f"it ended an earlier omniad process, and a test load of it alone in a child process {death}; "
                    f"left out; fix or uninstall {dist or ep.value}, or set {ENV_DISABLE}={ep.name}"
                ),
            )
            return
        if self._mark is not None:
            self._mark.set(plugin=ep.name, module=ep.value, step="importing")
        try:
            with exits_raise():
                module = ep.load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            if isinstance(exc, ExitCalled):
                exc = PluginLoadError(
                    f"its import called os._exit({exc.code}), which would have ended omniad"
                )
            info = PluginInfo(name=ep.name, module=ep.value, distribution=dist, version=version)
            self.plugins[ep.name] = info
            self._fail(info, exc)
            return
        self.register(module, name=ep.name, distribution=dist, version=version)

    def _fail(self, info: PluginInfo, exc: BaseException, *, where: str | None = None) -> None:
        info.status = "failed"
        message = _one_line(exc) if where is None else f"{where}: {_one_line(exc)}"
        info.error = "; ".join(filter(None, [info.error, message]))
        info.traceback = "".join(traceback.format_exception(exc))
        if self.strict:
            raise PluginLoadError(
                f"plugin {info.name!r} ({info.module}) failed: {info.error}; "
                f"fix or uninstall it, or set {ENV_DISABLE}={info.name}"
            ) from exc

    # -- registry -----------------------------------------------------------------------
    def _ordered(self) -> list[PluginInfo]:
        """Built-ins first, then plugins by name: the order in which prefixes are claimed."""
        return sorted(self.plugins.values(), key=lambda p: (p.status != "builtin", p.name))

    def build_registry(self) -> Registry:
        """Stage each plugin's hooks apart; commit a plugin only if all of them succeeded."""
        registry = Registry()
        impls = {
            kind: {
                impl.plugin_name: impl
                for impl in getattr(self.pm.hook, f"omniad_register_{kind}s").get_hookimpls()
            }
            for kind in KINDS
        }
        self._claim_prefixes()
        try:
            for info in self._ordered():
                if info.status in ("failed", "disabled"):
                    continue
                if self._mark is not None and info.status != "builtin":
                    self._mark.set(plugin=info.name, module=info.module, step="registering")
                staging = self._stage(info, {kind: impls[kind].get(info.name) for kind in KINDS})
                if staging is not None:
                    self._commit(registry, staging, info)
        finally:
            if self._mark is not None:
                self._mark.clear()
        return registry.freeze()

    def _claim_prefixes(self) -> None:
        """Give each prefix to one plugin; a plugin asking for a prefix it cannot have fails."""
        owners: dict[str, str] = {}
        for info in self._ordered():
            if info.status in ("failed", "disabled"):
                continue
            problem = None
            for prefix in info.prefixes:
                reserved_for = (
                    BUILTIN_NAME if prefix in BUILTIN_PREFIXES else prefix if prefix in self.plugins else None
                )
                owner = owners.get(prefix) or (reserved_for if reserved_for != info.name else None)
                if owner is not None:
                    problem = (
                        f"id prefix {prefix!r} belongs to plugin {owner!r} ({self.plugins[owner].module}); "
                        f"choose another prefix in {info.module}.{PREFIXES_ATTRIBUTE}"
                    )
                    break
            if problem is not None:
                self._fail(info, PluginLoadError(problem))
                continue
            owners.update(dict.fromkeys(info.prefixes, info.name))

    def _stage(self, info: PluginInfo, impls: dict[Kind, Any]) -> Registry | None:
        """Run all of one plugin's hooks into a private registry; None when one of them fails."""
        staging = Registry()
        for kind, impl in impls.items():
            if impl is None:
                continue
            registrar = Registrar(staging, kind, info.name, info.version, prefixes=info.prefixes)
            arguments = {"registry": registrar}
            try:
                with exits_raise():
                    impl.function(*(arguments[name] for name in impl.argnames))
            except (Exception, ExitCalled) as exc:
                if isinstance(exc, ExitCalled):
                    exc = PluginLoadError(f"called os._exit({exc.code}), which would have ended omniad")
                self._fail(info, exc, where=f"omniad_register_{kind}s (none of its components registered)")
                return None
        return staging

    def _commit(self, registry: Registry, staging: Registry, info: PluginInfo) -> bool:
        """Move a staged plugin into the registry, or nothing of it when one of its ids is taken."""
        clashes = [
            f"{entry.kind} {entry.id!r} (plugin {registry.get(entry.kind, entry.id).plugin!r})"
            for entry in staging.list()
            if (entry.kind, entry.id) in registry
        ]
        if clashes:
            self._fail(
                info,
                DuplicateComponentError(
                    f"ids already registered: {', '.join(clashes)}; none of its components registered; "
                    f"rename them or disable a plugin with {ENV_DISABLE}"
                ),
            )
            return False
        components: dict[str, list[str]] = {}
        for entry in staging.list():
            registry.add(entry.card, plugin=info.name, plugin_version=info.version)
            components.setdefault(entry.kind, []).append(entry.id)
        info.components = components
        return True


@contextlib.contextmanager
def _native_crashes_shown() -> Iterator[None]:
    """Have a native crash while plugins load print the Python stack (the plugin's module is in it)."""
    was = faulthandler.is_enabled()
    with contextlib.suppress(Exception):  # no usable stderr (pythonw, a closed fd): no stack, same work
        if not was:
            faulthandler.enable()
    try:
        yield
    finally:
        if not was:
            faulthandler.disable()


def _probe(name: str) -> str | None:
    """Load plugin ``name`` alone in a child process; how the child died, or None if it lived.

    The child writes its own crash mark; if it dies, that mark is found by the next process,
    so a plugin that always crashes is test-loaded (and left out) every time until it is fixed.
    """
    env = {k: v for k, v in os.environ.items() if k not in (ENV_DISABLE, ENV_STRICT, ENV_NO_AUTOLOAD)}
    env[ENV_LOAD] = name
    code = "from omniad.plugins import PluginManager; PluginManager().build_registry()"
    try:
        child = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return None  # inconclusive: load it here, the mark names it again if it kills this one
    except OSError:
        return None
    if child.returncode == 0:
        return None
    if child.returncode < 0:
        import signal

        with contextlib.suppress(ValueError):
            return f"was killed by signal {-child.returncode} ({signal.Signals(-child.returncode).name})"
        return f"was killed by signal {-child.returncode}"
    return f"ended with exit code {child.returncode}"


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


def distribution_of(plugin: str) -> str:
    """The installed distribution (name and version) that provides ``plugin``: whom to report its bugs to."""
    info = _manager.plugins.get(plugin) if _manager is not None else None
    if info is None or not info.distribution:
        return f"plugin {plugin!r}"
    return f"{info.distribution} {info.version}" if info.version else info.distribution


def reset(manager: PluginManager | None = None) -> None:
    """Forget the cached manager and registry (tests, or after installing a plugin)."""
    global _manager, _registry
    _manager = manager
    _registry = None
