"""The command line's shared parts: the Typer app, the options several commands take, errors as one line."""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from typing import Annotated

import typer

from sitewatch.errors import SitewatchError
from sitewatch.text import LANGS

app = typer.Typer(
    name="sitewatch",
    help="Video safety assistant: find accidents in site videos, report them, and chat about the video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]


def _not_blank(value: str | None) -> str | None:
    """Refuse an empty --out (a script's unset variable), which a Path would read as the current folder."""
    if value is not None and not value.strip():
        raise typer.BadParameter("it is empty: name a folder")
    return value


def out_option(help_text: str) -> typer.models.OptionInfo:
    return typer.Option("--out", "-o", help=help_text, callback=_not_blank)


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# Typer lists an Enum's values as the choices; the languages themselves are defined in sitewatch.text.
Lang = Enum("Lang", {code: code for code in LANGS}, type=str)  # type: ignore[misc]


ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Video-language model that confirms, describes and answers (default: SITEWATCH_VLM; none: the "
        "detector only): pllava-7b, hf:<id or folder>, openai:<model>@<url>. See `sitewatch models`.",
    ),
]


TranslatorOpt = Annotated[
    str | None, typer.Option("--translator", help="none, openai[:model], hf[:id or folder], model.")
]


def flags_request(lang: Lang | None, fps: float | None, model: str | None, translator: str | None):
    """The operator's settings and the request this command's flags make of them (bad values exit 2)."""
    from sitewatch.request import AnalysisRequest
    from sitewatch.service.build import pinned
    from sitewatch.settings import get_settings

    settings = get_settings()
    request = AnalysisRequest.of(
        settings, lang=lang.value if lang else None, fps=fps, model=model, translator=translator
    )
    return settings, pinned(request, settings)


def open_store(settings):
    from sitewatch.optional import require

    require("sqlalchemy", "api")
    from sitewatch.store import Store

    return Store.open(settings)


def main() -> None:
    """Entry point: run the CLI, turning sitewatch errors into one clear line and exit code 2."""
    try:
        # Not standalone: usage errors come back here to be printed as one line, like every other error.
        sys.exit(app(standalone_mode=False))
    except SitewatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.TyperException as exc:
        typer.echo(f"error: {_usage_message(exc)}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)


def _usage_message(exc: typer.TyperException) -> str:
    """Typer's message, with a hint for a file name that was read as an option (`-rf.mp4`)."""
    message = exc.format_message().replace("Value error, ", "")
    option = getattr(exc, "option_name", None) or ""
    if option.startswith("-") and any(a.startswith(option) and "." in a for a in sys.argv[1:]):
        message += " (a file whose name starts with '-' is written ./-name.mp4 or after --)"
    return message
