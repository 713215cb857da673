"""The history commands: list the kept analyses and open one."""

from __future__ import annotations

from typing import Annotated

import typer

from sitewatch.cli.app import (
    JsonFlag,
    Lang,
    app,
    open_store,
    print_json,
)
from sitewatch.errors import SitewatchError

history_app = typer.Typer(no_args_is_help=False)


app.add_typer(history_app, name="history")


def _verdict_option(value: str | None) -> str | None:
    """--verdict as users write it: a code or a label in any language and case."""
    if value is None:
        return None
    from sitewatch.text.verdicts import parse_verdict, verdict_words

    verdict = parse_verdict(value)
    if verdict is None:
        accepted = ", ".join(f'"{w}"' if " " in w else w for w in verdict_words())
        raise SitewatchError(f"--verdict: unknown verdict {value!r}; accepted (any case): {accepted}")
    return verdict.value


@history_app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many analyses (newest first).")] = 20,
    verdict: Annotated[
        str | None,
        typer.Option(help="Only this verdict: its label as shown, in any language and case (\"possible accident\"), "
                     "or its code (accident, uncertain, no_accident)."),
    ] = None,
    event: Annotated[str | None, typer.Option(help="Only analyses with an event of this kind (fall, ...).")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site tag.")] = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera tag.")] = None,
    lang: Annotated[Lang | None, typer.Option(help="Language of the table (default: SITEWATCH_LANG or ko).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the analyses kept in the history (analyze --save, serve), in local time; `history show ID` opens one."""
    if ctx.invoked_subcommand is not None:
        return
    from pydantic import ValidationError
    from rich.console import Console

    from sitewatch.cli.render import print_history
    from sitewatch.settings import get_settings
    from sitewatch.store import AnalysisQuery

    settings = get_settings()
    try:
        query = AnalysisQuery(limit=limit, verdict=_verdict_option(verdict), event=event, site=site, camera=camera)
    except ValidationError as exc:
        problems = "; ".join(f"--{e['loc'][0]}: {e['msg'].lower()}" for e in exc.errors())
        raise SitewatchError(f"invalid option: {problems}") from None
    store = open_store(settings)
    try:
        page = store.query(query)
    finally:
        store.close()
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    print_history(page, lang.value if lang else settings.lang, Console())


@history_app.command("show")
def history_show(
    analysis_id: Annotated[str, typer.Argument(help="The analysis id, or its first characters as listed.")],
    lang: Annotated[Lang | None, typer.Option(help="Language of the report (default: SITEWATCH_LANG or ko).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """One analysis from the history: its verdict, summary and incidents, and the path of its report.html."""
    from rich.console import Console

    from sitewatch.cli.render import print_history_entry
    from sitewatch.report.files import REPORT_HTML
    from sitewatch.settings import get_settings
    from sitewatch.store.records import Status

    settings = get_settings()
    store = open_store(settings)
    try:
        record = store.get(store.resolve_id(analysis_id.strip().lower()))
        report = store.report(record.id) if record.status is Status.done else None
        html = store.report_folder(record.id) / REPORT_HTML if report is not None else None
    finally:
        store.close()
    if as_json:
        print_json({
            "analysis": record.model_dump(mode="json"),
            "report_html": str(html) if html is not None else None,
            "report": report.model_dump(mode="json") if report is not None else None,
        })
        return
    print_history_entry(record, report, html, lang.value if lang else settings.lang, Console())
