"""The Jinja2 templates sitewatch ships: HTML autoescaped, and an undefined name an error, not a blank."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8)
def template(package: str, name: str) -> Any:
    """The template `name` from `package`'s templates folder, loaded once."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name)
