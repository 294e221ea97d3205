"""Job handlers by name: the platform's, and those of the modules named in settings."""

from __future__ import annotations

import importlib
import pkgutil

import afiya.jobs
from afiya.adapters.queue.runner import Handler, Periodic

_NOT_HANDLER_MODULES = {"registry", "worker"}


def builtin_module_names() -> list[str]:
    """``afiya.jobs.<module>`` for every job module (each exposes ``HANDLERS``)."""
    return [
        f"afiya.jobs.{m.name}"
        for m in sorted(pkgutil.iter_modules(afiya.jobs.__path__), key=lambda m: m.name)
        if m.name not in _NOT_HANDLER_MODULES
    ]


def handlers(extra_modules: tuple[str, ...] = ()) -> dict[str, Handler]:
    """Every ``HANDLERS`` mapping of the built-in job modules and of ``extra_modules``."""
    found: dict[str, Handler] = {}
    names = [*builtin_module_names(), *extra_modules]
    modules = [importlib.import_module(name) for name in names]
    for module in modules:
        for name, handler in getattr(module, "HANDLERS", {}).items():
            if name in found and found[name] is not handler:
                raise ValueError(f"two job handlers are named {name!r}")
            found[name] = handler
    return found


def periodic(extra_modules: tuple[str, ...] = ()) -> list[Periodic]:
    """Every ``PERIODIC`` scheduler of the job modules (run at each sweep)."""
    names = [*builtin_module_names(), *extra_modules]
    return [p for name in names for p in getattr(importlib.import_module(name), "PERIODIC", [])]
