"""Commands over many videos: batch (reports for a folder or a list) and eval (scores on labelled clips)."""

from __future__ import annotations

import json
from contextlib import contextmanager
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
    out_option,
)

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
        from sitewatch.training.run import cross_validate_manifest

        ignored = [flag for flag, value in (("--fps", fps), ("--model", model), ("--ray", ray)) if value is not None]
        if ignored:
            # The recipe is scored on its own cached 6 fps pose passes, with no model: say so instead of ignoring.
            raise typer.BadParameter(f"it scores the detector's training recipe at its own rate, without a model "
                                     f"or a cluster: drop {', '.join(ignored)}", param_hint="--cv")
        result = cross_validate_manifest(manifest, videos, workers=workers or 1).result
    else:
        from sitewatch.settings import get_settings
        from sitewatch.training.eval import evaluate as run_eval

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
    from sitewatch.training.eval_tables import breakdown_tables, clip_table, print_tables

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
        from sitewatch.cli.plain_progress import PlainProgress

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
    out: Annotated[
        str, out_option("Folder for summary.csv, summary.json, index.html and one report folder per video.")
    ],
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

    settings, request = flags_request(lang, fps, model, translator)
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
