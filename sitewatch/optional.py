"""Import optional heavy dependencies with a message that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from sitewatch.errors import MissingExtraError


def require(module: str, extra: str) -> ModuleType:
    """Import `module` or raise MissingExtraError telling which pip extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"'{module}' is not installed: run  pip install 'sitewatch[{extra}]'"
        ) from exc
