"""The nested estimate again, from margins kept by `train_detector.py --keep-margins`, with every choice after
the trees (calibration, edge wait, possible level, tree setting) made by the code as it is now.

    .venv/bin/python scripts/rejudge_nested.py margins.npz [--json out.json]

A rule about calibration or alarms is so measured fully nested in seconds, on the same trees; a change to the
features or the fit needs `train_detector.py` again. Needs the `train` extra and the cached pose.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from sitewatch.training.run import rejudge_kept


def main() -> None:
    """Parse arguments and re-judge."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("margins", type=Path, help="the .npz written by train_detector.py --keep-margins")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    summary = rejudge_kept(args.margins)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
