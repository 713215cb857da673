"""The `sitewatch` command line: thin wrappers that parse, call the core and render."""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sitewatch.errors import SitewatchError

app = typer.Typer(
    name="sitewatch",
    help="Video safety assistant: find accidents in site videos, report them, and chat about the video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def probe(video: Annotated[Path, typer.Argument(help="Video or image file.")], as_json: JsonFlag = False) -> None:
    """Show a video's duration, frame rate, frame count, size after rotation, codec and audio."""
    from sitewatch.settings import get_settings
    from sitewatch.video.probe import probe as probe_video

    info = probe_video(video, max_pixels=get_settings().max_pixels)
    if as_json:
        _print_json(info.model_dump(mode="json"))
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
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the JPEG frames.")],
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
    info = probe_video(video, max_pixels=settings.max_pixels)
    plan = uniform_plan(info, n) if mode is SampleMode.exact else keyframe_plan(info, n)
    reader = FrameReader(video, plan, size=Size(max_side=max_side), max_pixels=settings.max_pixels)
    written = write_jpegs(reader, out)
    if as_json:
        _print_json({"frames": [str(p) for p in written], "warnings": reader.warnings})
        return
    for warning in reader.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {len(written)} frames to {out}")


def main() -> None:
    """Entry point: run the CLI, turning sitewatch errors into one clear line and exit code 2."""
    try:
        app()
    except SitewatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
