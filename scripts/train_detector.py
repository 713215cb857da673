"""Rebuild the shipped fall model: nested leave-one-group-out CV of the recipe (with ../shared/data/normal as
negatives inside the folds), the lockbox scored once, the recipe on every group, and the dev tables.

    .venv/bin/python scripts/train_detector.py [--seed 0] [--workers 2] [--out sitewatch/detect/fall_model.json]
        [--keep-margins margins.npz | --nested-from margins.npz]

Needs the `train` extra (scikit-learn). Pose runs once per clip and picture variant and is cached in
~/.cache/sitewatch/features ($SITEWATCH_FEATURES). Dev clips are scored, never fitted or tuned on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from sitewatch.training.run import train

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Parse arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "sitewatch" / "detect" / "fall_model.json")
    parser.add_argument("--json", type=Path, default=None, help="also write the CV and dev numbers here")
    parser.add_argument("--no-write", action="store_true", help="cross-validate only, keep the shipped model")
    parser.add_argument("--workers", type=int, default=1, help="outer folds fitted at once (processes)")
    parser.add_argument(
        "--keep-margins",
        type=Path,
        default=None,
        help="also keep every fold's margins under every tree setting in this .npz (scripts/rejudge_nested.py)",
    )
    parser.add_argument(
        "--nested-from",
        type=Path,
        default=None,
        help="re-judge the nested estimate from margins kept on these same rows instead of refitting every fold",
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        help="also fit on this many synthetic scenes of each synthetic camera kind (never scored)",
    )
    parser.add_argument(
        "--occluded",
        action="store_true",
        help="also fit on every corpus clip with a box painted in front of its people, posed again",
    )
    args = parser.parse_args()
    # One thread per fit: hundreds of small fits, each worker a process; OpenMP threads only fight on 2 cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    summary = train(
        seed=args.seed,
        out=None if args.no_write else args.out,
        workers=args.workers,
        keep_margins=args.keep_margins,
        nested_from=args.nested_from,
        synthetic=args.synthetic,
        occluded=args.occluded,
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
