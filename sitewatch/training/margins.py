"""A nested run's kept margins: every outer fold's scores under every tree setting, saved as one .npz file.

With them, `nested.rejudge` makes every choice after the trees again (calibration, waits, possible level,
setting) without fitting: a rule about calibration or alarms is measured fully nested in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Margins = dict[str, dict[str, np.ndarray]]  # tree setting's name -> clip name -> its rows' margins


@dataclass
class FoldMargins:
    """One outer fold's margins under every tree setting: the inner folds' scores its recipe chose on, and
    the held-out groups' clips."""

    test: list[str]
    inner: Margins
    outer: Margins
    lockbox: bool = False  # the fold that scores the lockbox, once


def save_margins(folds: Sequence[FoldMargins], path: Path, fingerprint: str) -> None:
    """Write the folds to one compressed .npz (arrays by position, names in a JSON index), stamped with the
    fingerprint of the rows and settings that made them (`nested.fingerprint`)."""
    index, arrays = [], {}
    for fold in folds:
        entry: dict[str, object] = {"test": fold.test, "lockbox": fold.lockbox}
        for part in ("inner", "outer"):
            names: dict[str, list[str]] = {}
            for setting, by_clip in getattr(fold, part).items():
                names[setting] = list(by_clip)
                for margins in by_clip.values():
                    arrays[f"a{len(arrays)}"] = np.asarray(margins, np.float64)
            entry[part] = names
        index.append(entry)
    np.savez_compressed(path, index=np.array(json.dumps(index)), fingerprint=np.array(fingerprint), **arrays)


def load_margins(path: Path, fingerprint: str) -> list[FoldMargins]:
    """Read folds written by `save_margins` (no pickles: plain arrays and JSON); margins made from other rows
    or settings than those `fingerprint` names are refused, since choices made on them would be of other trees."""
    with np.load(path, allow_pickle=False) as data:
        kept = str(data["fingerprint"]) if "fingerprint" in data.files else "none"
        if kept != fingerprint:
            raise ValueError(
                f"{path} was kept from other training rows or tree settings (fingerprint {kept[:12]}, these rows "
                f"{fingerprint[:12]}): keep them again with train_detector.py --keep-margins"
            )
        index = json.loads(str(data["index"]))
        count = 0
        folds = []
        for entry in index:
            parts: dict[str, Margins] = {}
            for part in ("inner", "outer"):
                parts[part] = {}
                for setting, clips in entry[part].items():
                    parts[part][setting] = {}
                    for clip in clips:
                        parts[part][setting][clip] = data[f"a{count}"]
                        count += 1
            folds.append(FoldMargins(entry["test"], parts["inner"], parts["outer"], bool(entry["lockbox"])))
    return folds
