"""Commands that serve or watch until stopped (ui, serve, watch) and the model tools (models, convert-pllava)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.app import (
    JsonFlag,
    Lang,
    app,
    print_json,
)


@app.command()
def models(as_json: JsonFlag = False) -> None:
    """List the video-language backends and aliases, and what each needs."""
    from dataclasses import asdict

    from rich.console import Console

    from sitewatch.cli.render import models_table
    from sitewatch.vlm.registry import describe_backends

    rows = describe_backends()
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    Console().print(models_table(rows))


@app.command("convert-pllava")
def convert_pllava(
    src: Annotated[str, typer.Argument(help="Released PLLaVA folder or hub id (ermu2001/pllava-7b).")],
    dst: Annotated[Path, typer.Argument(help="New folder for the merged, standard checkpoint.")],
    lora_alpha: Annotated[float, typer.Option(help="LoRA alpha used at inference (PLLaVA's demo: 4).")] = 4.0,
    dtype: Annotated[str | None, typer.Option(help="Save as bfloat16/float16/float32 (default: as released).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Merge PLLaVA's LoRA and write a folder that loads directly and fast."""
    from dataclasses import asdict

    from sitewatch.vlm.pllava.convert import convert

    result = convert(src, dst, lora_alpha=lora_alpha, dtype=dtype)
    if as_json:
        print_json(asdict(result))
        return
    typer.echo(str(result))


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 exposes the page to your network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    share: Annotated[bool, typer.Option("--share", help="Also open a public gradio.live link.")] = False,
    lang: Annotated[Lang | None, typer.Option(help="Page and answer language (default: SITEWATCH_LANG or ko).")] = None,
    examples: Annotated[
        Path | None, typer.Option(help="Folder of videos to list as examples on the page.")
    ] = None,
    allow_any_model: Annotated[
        bool,
        typer.Option(
            "--allow-any-model",
            help="Let visitors type any model (hub ids, folders, openai:...@url). Off: only SITEWATCH_VLM and "
            "SITEWATCH_MODELS are offered. Only for a page that you alone can reach.",
        ),
    ] = False,
    no_history: Annotated[
        bool,
        typer.Option(
            "--no-history",
            help="Keep no uploads, analyses or chats in the history (default: SITEWATCH_PAGE_HISTORY, on).",
        ),
    ] = False,
) -> None:
    """Open the web page: upload a video, see the verdict, timeline and keyframes, and chat about it."""
    from sitewatch.settings import get_settings, updated
    from sitewatch.ui.app import launch

    settings = updated(get_settings(), page_history=False) if no_history else get_settings()
    launch(
        host=host,
        port=port,
        share=share,
        lang=lang.value if lang else None,
        examples_dir=examples,
        settings=settings,
        allow_any_model=allow_any_model,
    )


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback needs SITEWATCH_API_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8080,
    workers: Annotated[
        int | None, typer.Option(help="Analyses run at once (default: SITEWATCH_API_WORKERS or one per 2 cores).")
    ] = None,
) -> None:
    """Serve the REST API (docs at /docs): upload videos, follow analyses, read reports, chat, list the history."""
    from sitewatch.api.server import serve as run_server
    from sitewatch.settings import get_settings, updated

    settings = get_settings()
    if workers is not None:
        settings = updated(settings, labels={"api_workers": "--workers"}, api_workers=workers)
    run_server(settings, host, port)


@app.command()
def watch(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Cameras: rtsp://, http(s):// (MJPEG, HLS), /dev/videoN, a video file.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file with a `cameras` list and notification targets.")
    ] = None,
    webhook: Annotated[
        list[str] | None, typer.Option(help="POST each alert as JSON, signed with SITEWATCH_WEBHOOK_SECRET.")
    ] = None,
    mqtt: Annotated[str | None, typer.Option(help="Publish alerts to sitewatch/<camera>/events on this broker: "
                                             "mqtt://[user:pass@]host[:port].")] = None,
    notify: Annotated[
        list[str] | None, typer.Option(help="An apprise URL: slack://, tgram://, mailto://, ... (repeatable).")
    ] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Replay video files from the start when they end.")] = False,
    lang: Annotated[Lang | None, typer.Option(help="Language of the alerts (default: SITEWATCH_LANG or ko).")] = None,
    duration: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print camera status as JSON lines.")] = False,
) -> None:
    """Watch live cameras: alert within seconds of a fall, keep each incident's clip and report in the history."""
    from sitewatch.live.config import load_config
    from sitewatch.live.run import run_watch
    from sitewatch.optional import require

    for module in ("yaml", "sqlalchemy", "cv2"):
        require(module, "live")
    from sitewatch.settings import get_settings

    settings = get_settings()
    watch_config = load_config(
        config, sources or [], loop=loop, webhooks=webhook, mqtt=mqtt, notify=notify,
        lang=lang.value if lang else None,
    )
    run_watch(watch_config, settings, as_json, typer.echo, duration)
