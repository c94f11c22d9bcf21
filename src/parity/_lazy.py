"""Package facades that import their submodules on first use (PEP 562).

``parity logs check`` must start in a few milliseconds, so importing a package must not import pydantic,
onnx or numpy through its facade; names are resolved from their submodule when first asked for.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module


class _Facade(types.ModuleType):
    """A package whose exported names win over its submodules of the same name.

    ``parity.judge`` (the function) and ``parity.judge`` (the package) share a name; importing the
    package sets the attribute on ``parity``, which would hide the function. The facade ignores that.
    """

    _exports: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value) -> None:
        if name in self._exports and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, homes: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in submodules.

    ``homes`` maps each name to the submodule (relative to ``package``) that defines it.
    """
    module = sys.modules[package]
    module.__class__ = _Facade
    module._exports = frozenset(homes)

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(module, name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(homes) | set(vars(module)))

    return __getattr__, __dir__
