"""Job handlers by name: the platform's, and those of the modules named in settings."""

from __future__ import annotations

import importlib

from afiya.adapters.queue.runner import Handler
from afiya.jobs import platform

BUILTIN_MODULES = (platform,)


def handlers(extra_modules: tuple[str, ...] = ()) -> dict[str, Handler]:
    """Every ``HANDLERS`` mapping of the built-in job modules and of ``extra_modules``."""
    found: dict[str, Handler] = {}
    modules = [*BUILTIN_MODULES, *(importlib.import_module(name) for name in extra_modules)]
    for module in modules:
        for name, handler in getattr(module, "HANDLERS", {}).items():
            if name in found and found[name] is not handler:
                raise ValueError(f"two job handlers are named {name!r}")
            found[name] = handler
    return found
