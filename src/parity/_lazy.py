"""Package facades that import their submodules on first use (PEP 562).

``parity logs check`` must start in a few milliseconds, so importing a package must not import pydantic,
onnx or numpy through its facade; names are resolved from their submodule when first asked for.
"""

from __future__ import annotations

import sys
from importlib import import_module


def lazy_exports(package: str, homes: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in submodules.

    ``homes`` maps each name to the submodule (relative to ``package``) that defines it.
    """

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(homes)

    return __getattr__, __dir__
