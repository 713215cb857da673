"""`sitewatch train --from-history`: a site's (or camera's) own fall model from its operators' reviews."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.app import JsonFlag, Lang, app, open_store, print_json


@app.command("train")
def train(
    from_history: Annotated[
        bool, typer.Option("--from-history", help="Learn from the reviewed incidents kept in the history.")
    ] = False,
    site: Annotated[str | None, typer.Option(help="The site whose reviews to learn from (its model: "
                                             "<data>/models/site-<site>.json).")] = None,
    camera: Annotated[str | None, typer.Option(help="One camera's reviews instead (its model: <data>/models/"
                                               "camera-<camera>.json); with --site, of that site.")] = None,
    corpus: Annotated[Path | None, typer.Option(help="The shared training corpus (MANIFEST.csv format; default: "
                                                "../shared/data/train with ../shared/data/normal's footage).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Cross-validation folds fitted at once.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the trees.")] = 0,
    lang: Annotated[Lang | None, typer.Option(help="Language of the output (default: SITEWATCH_LANG or ko).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Refit the fall decision on the shared corpus plus the site's reviewed clips; keep it only if not worse."""
    from sitewatch.detect.site_models import MODELS_DIR
    from sitewatch.errors import SitewatchError
    from sitewatch.optional import require
    from sitewatch.request import AnalysisRequest
    from sitewatch.settings import get_settings
    from sitewatch.store.database import data_dir
    from sitewatch.text import language

    settings = get_settings()
    words = language(lang.value if lang else settings.lang)
    if not from_history:
        raise typer.BadParameter(words.t("train_only_history"), param_hint="--from-history")
    if not site and not camera:
        raise typer.BadParameter(words.t("train_needs_target"), param_hint="--site / --camera")
    # The same rule as every site and camera label an analysis is filed under (bad ones exit 2, named).
    AnalysisRequest.of(settings, labels={"site": "--site", "camera": "--camera"}, site=site, camera=camera)
    # One thread per fit (set before scikit-learn loads OpenMP): many small fits, folds in processes.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    require("sklearn", "train")
    from sitewatch.training.corpus import NORMAL_MANIFEST, TRAIN_MANIFEST
    from sitewatch.training.history import Target, export
    from sitewatch.training.site_model import train_site

    target = Target("camera", camera) if camera else Target("site", site or "")
    store = open_store(settings)
    try:
        exported = export(store, target, data_dir(settings), site=site)
    finally:
        store.close()
    say = (lambda line: typer.echo(line, err=True)) if as_json else typer.echo
    say(words.t("train_exported", clips=exported.clips, falls=exported.falls, false_alarms=exported.false_alarms,
                manifest=exported.manifest))
    for incident, reason in exported.skipped.items():
        say(words.t("train_skip", incident=incident, reason=words.t(f"train_skip_{reason}")))
    if not exported.clips:
        raise SitewatchError(words.t("train_no_clips", target=target.label))
    scores = train_site(target, exported.manifest, corpus or TRAIN_MANIFEST, data_dir(settings) / MODELS_DIR,
                        seed, workers, negatives=None if corpus else NORMAL_MANIFEST)
    if as_json:
        print_json({**scores.model_dump(), "skipped": exported.skipped})
        return
    typer.echo(words.t("train_corpus_score", before=scores.corpus_before, after=scores.corpus_after))
    typer.echo(words.t("train_site_score", clips=scores.site_clips, right_before=scores.site_right_before,
                       right_after=scores.site_right_after))
    if scores.written:
        typer.echo(words.t("train_written", path=scores.model_path))
    else:
        typer.echo(words.t("train_refused", worse=", ".join(words.t(f"train_worse_{w}") for w in scores.worse)))
