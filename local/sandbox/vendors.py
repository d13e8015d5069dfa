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
    return {name: importlib.import_module(dotted) for name, dotted in VENDOR_MODULES.items()}
