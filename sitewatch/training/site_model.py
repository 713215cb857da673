"""A site's own fall model: the training recipe refitted on the shared corpus plus the site's reviewed clips, kept
only when it is not worse.

Two honest comparisons, both by the recipe, never by a model on clips it was fitted on:
- the corpus: nested leave-one-group-out on the corpus alone (before) and with the site's clips added (after),
  scored on the same corpus clips (group-weighted F1 at the alarm tier);
- the site's own clips: before, each judged by the recipe fitted without any of them (the site's group held
  out); after, each judged by the recipe fitted on the corpus and the site's other clips (leave one out).
The site model is written (by a rename, into the data folder's models) only when neither score went down.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field
from tqdm import tqdm

from sitewatch.detect.site_models import write_model
from sitewatch.training.corpus import read_clips
from sitewatch.training.eval import ClipResult, group_weighted
from sitewatch.training.fit import Dataset, build_dataset
from sitewatch.training.history import Target
from sitewatch.training.nested import choose, nested_cv, run_outer
from sitewatch.training.run import FPS, corpus_dataset, recordings_of

log = logging.getLogger(__name__)

HELD_OUT = "held out"  # the group name of the one site clip being scored in the leave-one-out


class SiteScores(BaseModel):
    """What training for a site found, and whether its model was written."""

    target: str = Field(description="site-<name> or camera-<name>")
    corpus: str = Field(description="the shared corpus manifest")
    site_manifest: str
    site_clips: int
    corpus_groups: int
    corpus_before: float = Field(description="nested LOGO, corpus alone: group-weighted alarm F1 on the corpus")
    corpus_after: float = Field(description="nested LOGO with the site's clips: the same score, same corpus clips")
    site_before: float = Field(description="share of the site's clips judged right by the recipe without them")
    site_after: float = Field(description="share judged right, each by the recipe with the site's other clips")
    site_right_before: int
    site_right_after: int
    written: bool
    model_path: str | None = None
    worse: list[str] = Field(default_factory=list, description="which scores went down (why nothing was written)")


def _right(clips: Sequence[ClipResult]) -> int:
    return sum(c.outcome in ("TP", "TN") for c in clips)


def _site_dataset(site_manifest: Path) -> Dataset:
    """The site's clips as filmed (its own camera: no imitated other cameras), with every augmentation."""
    clips = [c for c in read_clips(site_manifest) if c.label in ("fall", "no_fall")]
    return build_dataset(clips, recordings_of(clips, ("orig",)), FPS)


def _leave_one_out(data: Dataset, corpus_groups: list[str], site: str, negatives: set[str], seed: int
                   ) -> list[ClipResult]:
    """Each site clip judged by the recipe chosen and fitted on the corpus and the site's other clips."""
    clips = sorted({s.clip for s in data.samples if s.clip.group == site}, key=lambda c: c.name)
    judged = []
    for clip in tqdm(clips, desc="site clips, leave one out", unit="clip"):
        held = dataclasses.replace(clip, group=HELD_OUT)
        samples = [dataclasses.replace(s, clip=held) if s.clip == clip else s for s in data.samples]
        inner = [*corpus_groups, site] if len(clips) > 1 else corpus_groups
        judged += [j.alarm for j in run_outer(Dataset(samples), inner, [HELD_OUT], negatives, seed).judged]
    return judged


def train_site(
    target: Target, site_manifest: Path, corpus: Path, models: Path, seed: int = 0, workers: int = 1,
    negatives: Path | None = None,
) -> SiteScores:
    """Score the recipe with and without the site's clips; write the site model into `models` if not worse."""
    normal = negatives if negatives is not None and negatives.exists() else None
    data, names = corpus_dataset(corpus, negatives=normal)
    site_data = _site_dataset(site_manifest)
    if not site_data.samples:
        raise ValueError(f"{site_manifest} holds no fall or no_fall clip")
    corpus_groups = sorted({s.clip.group for s in data.samples})
    before = nested_cv(data, names, seed, str(corpus), workers, use_lockbox=False)
    both = Dataset([*data.samples, *site_data.samples])
    after = nested_cv(both, names, seed, str(corpus), workers, use_lockbox=False)
    corpus_after = group_weighted([c for c in after.alarm.result.clips if c.group != target.group]).f1
    site_before = [c for c in after.alarm.result.clips if c.group == target.group]
    site_after = _leave_one_out(both, corpus_groups, target.group, names, seed)
    scores = SiteScores(
        target=target.label, corpus=str(corpus), site_manifest=str(site_manifest), site_clips=len(site_after),
        corpus_groups=len(corpus_groups), corpus_before=before.alarm.weighted.f1, corpus_after=corpus_after,
        site_before=round(_right(site_before) / len(site_before), 4),
        site_after=round(_right(site_after) / len(site_after), 4),
        site_right_before=_right(site_before), site_right_after=_right(site_after), written=False,
    )  # fmt: skip
    worse = worse_on(scores)
    if worse:
        log.warning("%s: not written, worse on %s", target.label, ", ".join(worse))
        return scores.model_copy(update={"worse": worse})
    trained_on = [str(corpus), str(site_manifest), *([str(normal)] if normal else [])]
    path = write_model(models, target.scope, target.name, _site_model(both, names, seed, target, trained_on, scores))
    return scores.model_copy(update={"written": True, "model_path": str(path)})


def worse_on(scores: SiteScores) -> list[str]:
    """The scores that went down with the site's clips ("corpus", "site"): any one keeps the model in use."""
    pairs = (("corpus", scores.corpus_before, scores.corpus_after), ("site", scores.site_before, scores.site_after))
    return [name for name, before, after in pairs if after < before]


def _site_model(
    data: Dataset, negatives: set[str], seed: int, target: Target, trained_on: list[str], scores: SiteScores
) -> dict:
    """The recipe chosen and fitted on every group, the site's included, as the model's JSON document."""
    from sklearn import __version__ as sklearn_version

    recipe = choose(data, sorted({s.clip.group for s in data.samples}), negatives, seed)
    trees = recipe.fit_all(data, seed)
    meta = {
        "name": target.label,
        target.scope: target.name,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "trained_on": trained_on,
        "rows": sum(len(s.y) for s in data.samples),
        "seed": seed,
        "setting": recipe.setting.name,
        "confirm_fast_s": recipe.confirm_fast_s,
        "members": recipe.setting.describe(),
        "scikit_learn": sklearn_version,
        "scores": scores.model_dump(include={"corpus_before", "corpus_after", "site_before", "site_after"}),
    }
    return recipe.document(trees, meta)
