"""Choose a translator by name: `none`, `openai`, `hf[:<id or folder>[,<id or folder>]]`, `model`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sitewatch.errors import SitewatchError

if TYPE_CHECKING:
    from sitewatch.settings import Settings
    from sitewatch.translate.base import TextModel, Translator

# name -> "module:function"; each loader takes (target, settings, vlm) and returns a Translator.
TRANSLATORS: dict[str, str] = {
    "none": "sitewatch.translate.none:load",
    "openai": "sitewatch.translate.openai:load",
    "hf": "sitewatch.translate.hf:load",
    "model": "sitewatch.translate.model:load",
}


def load_translator(name: str | None, settings: Settings, vlm: TextModel | None = None) -> Translator:
    """Build the translator `name` (`settings.translator` when None); `model` translates with `vlm`."""
    name = name if name is not None else settings.translator
    backend, _, target = name.partition(":")
    if backend not in TRANSLATORS:
        known = ", ".join(TRANSLATORS)
        raise SitewatchError(f"unknown translator '{name}'; known: {known} (hf takes :<model id or folder>)")
    module_name, function = TRANSLATORS[backend].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, function)(target, settings, vlm)
