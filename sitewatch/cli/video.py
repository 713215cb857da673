"""Commands about one video: probe it, write its frames, analyse it, chat about it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.app import (
    JsonFlag,
    Lang,
    ModelOpt,
    TranslatorOpt,
    app,
    flags_request,
    open_store,
    out_option,
    print_json,
)
from sitewatch.cli.progress import progress_bar
from sitewatch.errors import SitewatchError


@app.command()
def probe(video: Annotated[Path, typer.Argument(help="Video or image file.")], as_json: JsonFlag = False) -> None:
    """Show a video's duration, frame rate, frame count, size after rotation, codec and audio."""
    from sitewatch.settings import get_settings
    from sitewatch.video.probe import probe as probe_video

    settings = get_settings()
    info = probe_video(video, max_pixels=settings.max_pixels, max_duration_s=settings.max_duration_s)
    if as_json:
        print_json(info.model_dump(mode="json"))
        return
    kind = "image" if info.is_image else f"{info.container}/{info.codec}"
    rate = "variable" if info.variable_frame_rate else "constant"
    typer.echo(f"{info.path}")
    typer.echo(f"  format     {kind}")
    typer.echo(f"  size       {info.width}x{info.height}" + (f" (rotated {info.rotation}°)" if info.rotation else ""))
    typer.echo(f"  duration   {info.duration_s:.2f} s")
    typer.echo(f"  frames     {info.frame_count}" + ("" if info.frame_count_exact else " (estimated)"))
    typer.echo(f"  fps        {info.fps:.3f} ({rate} frame rate)")
    typer.echo(f"  audio      {'yes' if info.has_audio else 'no'}")


class SampleMode(str, Enum):
    exact = "exact"
    keyframe = "keyframe"


@app.command()
def frames(
    video: Annotated[Path, typer.Argument(help="Video or image file.")],
    out: Annotated[str, out_option("Folder for the JPEG frames.")],
    n: Annotated[int, typer.Option("--n", min=1, max=1024, help="How many frames.")] = 16,
    mode: Annotated[SampleMode, typer.Option(help="exact (PLLaVA's sampling) or keyframe (fast).")] = SampleMode.exact,
    max_side: Annotated[int | None, typer.Option(help="Longest side of the written frames.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the frames a video-language model would see as JPEGs (handy for debugging)."""
    from sitewatch.settings import get_settings
    from sitewatch.video.decode import FrameReader, Size
    from sitewatch.video.frames_out import write_jpegs
    from sitewatch.video.probe import probe as probe_video
    from sitewatch.video.sample import keyframe_plan, uniform_plan

    settings = get_settings()
    info = probe_video(video, max_pixels=settings.max_pixels, max_duration_s=settings.max_duration_s)
    plan = uniform_plan(info, n) if mode is SampleMode.exact else keyframe_plan(info, n)
    reader = FrameReader(video, plan, size=Size(max_side=max_side), max_pixels=settings.max_pixels)
    written = write_jpegs(reader, Path(out))
    if as_json:
        print_json({"frames": [str(p) for p in written], "warnings": reader.warnings})
        return
    for warning in reader.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {len(written)} frames to {out}")


def _print_report(report, lang: str) -> None:
    from rich.console import Console

    from sitewatch.cli.render import print_report

    print_report(report, lang, Console())


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="Video or image file.")],
    lang: Annotated[Lang | None, typer.Option(help="Language of the answer (default: SITEWATCH_LANG or ko).")] = None,
    out: Annotated[str | None, out_option("Write report.json, report.html and keyframes here.")] = None,
    model: ModelOpt = None,
    translator: TranslatorOpt = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second the detector looks at.")] = None,
    as_json: JsonFlag = False,
    save: Annotated[
        bool, typer.Option("--save", help="Keep the video, report and verdict in the history (sitewatch history).")
    ] = False,
) -> None:
    """Find accidents in a video: whether, when, how sure, and a short description."""
    from sitewatch.report.files import prepare_folder, write_report
    from sitewatch.service.assess import analyze as run_analysis
    from sitewatch.service.build import build

    settings, request = flags_request(lang, fps, model, translator)
    if out is not None:
        prepare_folder(video, out)
    tools = build(request, settings)
    bar, update = progress_bar()
    with bar:
        report = run_analysis(
            video, settings, detector=tools.detector, model=tools.model, translator=tools.translator,
            progress=update, frames=request.frames,
        )  # fmt: skip
    failure: SitewatchError | None = None
    written = None
    if out is not None:
        try:
            written = write_report(report, out, lang=request.lang)
        except SitewatchError as exc:
            # The analysis is still shown: only the files are missing.
            failure = exc
    if save:
        try:
            _save_to_history(video, report, settings, request)
        except SitewatchError as exc:
            failure = failure or exc
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_report(report, request.lang)
        if written:
            from sitewatch.text import language

            typer.echo(language(request.lang).t("report_saved", path=written["html"]))
    if failure is not None:
        raise failure


@app.command()
def chat(
    video: Annotated[Path, typer.Argument(help="Video or image file to talk about.")],
    lang: Annotated[Lang | None, typer.Option(help="Answer language (default: the question's).")] = None,
    model: ModelOpt = None,
    translator: TranslatorOpt = None,
) -> None:
    """Chat about a video in the terminal, in Korean or English (/en shows the English original)."""
    from sitewatch.cli.terminal_chat import run_terminal_chat
    from sitewatch.service.session import start_chat

    settings, request = flags_request(lang, None, model, translator)
    bar, update = progress_bar()
    with bar:
        session = start_chat(video, request, settings, progress=update)
    _print_report(session.report, request.lang)
    run_terminal_chat(session, ui_lang=request.lang, answer_lang=lang.value if lang else None)


def _save_to_history(video: Path, report, settings, request) -> None:
    """Keep a finished analysis in the history `sitewatch history` and `sitewatch serve` share, once per request."""
    from sitewatch.content import sha256_file
    from sitewatch.schema import Source
    from sitewatch.service.save import save_analysis  # the history's extra: only when saving

    store = open_store(settings)
    try:
        earlier = store.find_reusable(sha256_file(video), request)
        if earlier is not None:
            typer.echo(f"already in the history as {earlier.id}", err=True)
            return
        record = save_analysis(store, video, report, request, source=Source.cli)
    finally:
        store.close()
    typer.echo(f"saved to the history as {record.id}", err=True)
