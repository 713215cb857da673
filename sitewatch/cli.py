"""The `sitewatch` command line: thin wrappers that parse, call the core and render."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager, nullcontext
from enum import Enum
from pathlib import Path
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


def _out(help_text: str) -> typer.models.OptionInfo:
    return typer.Option("--out", "-o", help=help_text, callback=_not_blank)


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

    settings = get_settings()
    info = probe_video(video, max_pixels=settings.max_pixels, max_duration_s=settings.max_duration_s)
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
    out: Annotated[str, _out("Folder for the JPEG frames.")],
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
        _print_json({"frames": [str(p) for p in written], "warnings": reader.warnings})
        return
    for warning in reader.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {len(written)} frames to {out}")


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


def _request(lang: Lang | None, fps: float | None, model: str | None, translator: str | None):
    """The operator's settings and the request this command's flags make of them (bad values exit 2)."""
    from sitewatch.request import AnalysisRequest
    from sitewatch.settings import get_settings

    settings = get_settings()
    request = AnalysisRequest.of(
        settings, lang=lang.value if lang else None, fps=fps, model=model, translator=translator
    )
    return settings, request


def _progress_bar():
    """Progress on stderr, fed by the pipeline's callback: a transient rich bar, or plain lines into a log file."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from sitewatch.schema import Stage

    labels: dict[str, str] = {Stage.detect: "detecting", Stage.verify: "asking the model"}
    console = Console(stderr=True)
    if not console.is_terminal:
        from sitewatch.plain_progress import PlainProgress

        return nullcontext(), PlainProgress(labels).update
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    )
    tasks: dict[Stage, int] = {}

    def update(stage: Stage, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage.value), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


def _print_report(report, lang: str) -> None:
    from rich.console import Console

    from sitewatch.cli_render import print_report

    print_report(report, lang, Console())


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="Video or image file.")],
    lang: Annotated[Lang | None, typer.Option(help="Language of the answer (default: SITEWATCH_LANG or ko).")] = None,
    out: Annotated[str | None, _out("Write report.json, report.html and keyframes here.")] = None,
    model: ModelOpt = None,
    translator: TranslatorOpt = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second the detector looks at.")] = None,
    as_json: JsonFlag = False,
    save: Annotated[
        bool, typer.Option("--save", help="Keep the video, report and verdict in the history (sitewatch history).")
    ] = False,
) -> None:
    """Find accidents in a video: whether, when, how sure, and a short description."""
    from sitewatch.assess import analyze as run_analysis
    from sitewatch.report.files import prepare_folder, write_report
    from sitewatch.service.build import build

    settings, request = _request(lang, fps, model, translator)
    if out is not None:
        prepare_folder(video, out)
    tools = build(request, settings)
    bar, update = _progress_bar()
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


WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers", "-w", min=1, max=1024,
        help="Videos analysed at once, each worker loading the detector once (default: one per core; with "
        "--ray: the cluster's CPUs).",
    ),
]
RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Run on a Ray cluster (extra batch): auto (the running cluster), its address (host:port), or local "
        "(start one on this machine). Every node must see the videos and --out at the same paths.",
    ),
]


def _runner(settings, options, workers: int | None, ray: str | None):
    """The process pool, or the Ray cluster when --ray names one."""
    from sitewatch.batch.runners import Capacity, get_runner

    return get_runner("ray" if ray else "pool", settings, options, Capacity(workers=workers, address=ray))


@app.command("eval")
def evaluate(
    manifest: Annotated[Path, typer.Argument(help="Labelled manifest CSV (the format of MANIFEST.csv).")],
    videos: Annotated[Path | None, typer.Option(help="Folder with the clips (default: next to the manifest).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second the detector looks at.")] = None,
    model: ModelOpt = None,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Leave-one-group-out instead: refit the learned detector without each `group` of the manifest "
            "and score that group (needs the train extra).",
        ),
    ] = False,
    workers: WorkersOpt = None,
    ray: RayOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Run analyze over labelled clips and score it: precision, recall, F1, timing, false alarms, speed."""
    if cv:
        from sitewatch.detect.train.run import cross_validate_manifest

        result = cross_validate_manifest(manifest, videos).result
    else:
        from sitewatch.eval import evaluate as run_eval
        from sitewatch.settings import get_settings

        settings = get_settings()
        result = run_eval(
            manifest, videos, settings=settings, model=model if model is not None else settings.vlm,
            progress=not as_json, workers=workers, ray=ray, fps=fps,
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_eval(result)


def _print_eval(result) -> None:
    from sitewatch.eval_tables import breakdown_tables, clip_table, print_tables

    print_tables(clip_table(result), *breakdown_tables(result, ("event_type", "setting")))
    s = result.summary
    typer.echo(
        f"precision {s.precision:.2f}  recall {s.recall:.2f}  F1 {s.f1:.2f}  "
        f"(TP {s.tp}, FP {s.fp}, FN {s.fn}, TN {s.tn}; {s.clips - s.scored} not scored)"
    )
    if s.timing_mean_abs_s is not None:
        typer.echo(
            f"timing |error| mean {s.timing_mean_abs_s:.2f} s, median {s.timing_median_abs_s:.2f} s; "
            f"within 2 s: {s.on_time_fraction:.0%}"
        )
    fa_rate = f"{s.false_alarms_per_hour:.1f}/hour" if s.false_alarms_per_hour is not None else "n/a"
    typer.echo(f"false alarms on no_fall clips: {s.false_alarms} ({fa_rate})")
    if s.speed_x:
        typer.echo(f"speed: {s.speed_x:.1f}x real time ({s.video_s:.0f} s of video in {s.wall_s:.0f} s)")


@contextmanager
def _batch_display(total: int, lang: str, as_json: bool):
    """What a batch shows as each video ends: a JSON line, or a progress bar with an ETA on stderr."""
    if as_json:
        yield lambda result: typer.echo(result.model_dump_json())
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sitewatch.text import language

    label = language(lang).t("batch_progress")
    console = Console(stderr=True)
    if not console.is_terminal:
        from sitewatch.plain_progress import PlainProgress

        lines = PlainProgress({"batch": label})
        finished = iter(range(1, total + 1))
        yield lambda result: lines.update("batch", next(finished, total), total)
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[last]}"), console=console, transient=True,
    )
    task = bar.add_task(label, total=total, last="")
    with bar:
        yield lambda result: bar.update(task, advance=1, last=Path(result.file).name)


@app.command()
def batch(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Folders (walked recursively), manifest CSVs (their `file` column), text files of paths (.txt), "
            "or videos."
        ),
    ],
    out: Annotated[str, _out("Folder for summary.csv, summary.json, index.html and one report folder per video.")],
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Take only files matching this glob from folders (repeatable; default: "
                     "video types)."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out files matching this glob (repeatable).")
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option(help="Language of the reports and the index (default: SITEWATCH_LANG or ko).")
    ] = None,
    model: ModelOpt = None,
    translator: TranslatorOpt = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second the detector looks at.")] = None,
    workers: WorkersOpt = None,
    ray: RayOpt = None,
    save: Annotated[
        bool, typer.Option("--save", help="Also keep each video and its report in the history (sitewatch history).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON line per finished video, then a summary line.")
    ] = False,
) -> None:
    """Analyse many videos: a report folder each and one summary; a re-run skips what is done; parallel or Ray."""
    from sitewatch.batch.engine import prepare_out, run_batch
    from sitewatch.batch.sources import find_videos
    from sitewatch.batch.summary import INDEX_HTML, counts
    from sitewatch.text import language

    settings, request = _request(lang, fps, model, translator)
    folder = prepare_out(Path(out))
    paths = find_videos(sources, include or (), exclude or (), skip=folder)
    history = None
    if save:
        from sitewatch.batch.history import History

        history = History(settings, request)
    try:
        with _batch_display(len(paths), request.lang, as_json) as show:
            summary = run_batch(paths, folder, request, _runner(settings, request, workers, ray), history=history,
                                on_result=show)
    finally:
        if history is not None:
            history.close()
    if as_json:
        line = {"summary": summary.model_dump(mode="json", exclude={"results"}), "index": str(folder / INDEX_HTML)}
        typer.echo(json.dumps(line, ensure_ascii=False))
        return
    words = language(request.lang)
    for result in summary.results:
        if result.error:
            # Most reasons name the file already.
            where = "" if result.file in result.error else f"{result.file}: "
            typer.echo(f"{words.t('batch_failed')}: {where}{result.error}", err=True)
    typer.echo(counts(summary, request.lang))
    typer.echo(words.t("batch_done", done=summary.done, videos=summary.videos, errors=summary.errors,
                       path=folder / INDEX_HTML))


@app.command()
def chat(
    video: Annotated[Path, typer.Argument(help="Video or image file to talk about.")],
    lang: Annotated[Lang | None, typer.Option(help="Answer language (default: the question's).")] = None,
    model: ModelOpt = None,
    translator: TranslatorOpt = None,
) -> None:
    """Chat about a video in the terminal, in Korean or English (/en shows the English original)."""
    from sitewatch.chat_cli import run_terminal_chat
    from sitewatch.session import start_chat

    settings, request = _request(lang, None, model, translator)
    bar, update = _progress_bar()
    with bar:
        session = start_chat(video, request, settings, progress=update)
    _print_report(session.report, request.lang)
    run_terminal_chat(session, ui_lang=request.lang, answer_lang=lang.value if lang else None)


@app.command()
def models(as_json: JsonFlag = False) -> None:
    """List the video-language backends and aliases, and what each needs."""
    from dataclasses import asdict

    from rich.console import Console

    from sitewatch.cli_render import models_table
    from sitewatch.vlm.registry import describe_backends

    rows = describe_backends()
    if as_json:
        _print_json([asdict(r) for r in rows])
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
        _print_json(asdict(result))
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


def _open_store(settings):
    from sitewatch.optional import require

    require("sqlalchemy", "api")
    from sitewatch.store import Store

    return Store.open(settings)


def _save_to_history(video: Path, report, settings, request) -> None:
    """Keep a finished analysis in the history `sitewatch history` and `sitewatch serve` share, once per request."""
    from sitewatch.content import sha256_file
    from sitewatch.schema import Source

    store = _open_store(settings)
    try:
        earlier = store.find_reusable(sha256_file(video), request)
        if earlier is not None:
            typer.echo(f"already in the history as {earlier.id}", err=True)
            return
        record = store.save(video, report, request, source=Source.cli)
    finally:
        store.close()
    typer.echo(f"saved to the history as {record.id}", err=True)


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

    from sitewatch.cli_render import print_history
    from sitewatch.settings import get_settings
    from sitewatch.store import AnalysisQuery

    settings = get_settings()
    try:
        query = AnalysisQuery(limit=limit, verdict=_verdict_option(verdict), event=event, site=site, camera=camera)
    except ValidationError as exc:
        problems = "; ".join(f"--{e['loc'][0]}: {e['msg'].lower()}" for e in exc.errors())
        raise SitewatchError(f"invalid option: {problems}") from None
    store = _open_store(settings)
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

    from sitewatch.cli_render import print_history_entry
    from sitewatch.report.files import REPORT_HTML
    from sitewatch.settings import get_settings
    from sitewatch.store.records import Status

    settings = get_settings()
    store = _open_store(settings)
    try:
        record = store.get(store.resolve_id(analysis_id.strip().lower()))
        report = store.report(record.id) if record.status is Status.done else None
        html = store.report_folder(record.id) / REPORT_HTML if report is not None else None
    finally:
        store.close()
    if as_json:
        _print_json({
            "analysis": record.model_dump(mode="json"),
            "report_html": str(html) if html is not None else None,
            "report": report.model_dump(mode="json") if report is not None else None,
        })
        return
    print_history_entry(record, report, html, lang.value if lang else settings.lang, Console())


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
