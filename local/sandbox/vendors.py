"""The registry of stand-ins. Each module exposes `blueprint` and `new_state()`."""

from __future__ import annotations

import importlib
from types import ModuleType

VENDOR_MODULES = {
    "slack": "local.sandbox.slack",
    "clickup": "local.sandbox.clickup",
    "stripe": "local.sandbox.stripe",
    "topline": "local.sandbox.topline",
    "mailfold": "local.sandbox.mailfold",
}


def all_vendors() -> dict[str, ModuleType]:
    """Vendors whose module exists; a stand-in not written yet is simply absent."""
    found: dict[str, ModuleType] = {}
    for name, dotted in VENDOR_MODULES.items():
        try:
            found[name] = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                raise
    return found
