"""The `VideoLM` protocol every video-language backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sitewatch.schema import Message


@dataclass(frozen=True)
class VideoClip:
    """Frames handed to a model: RGB uint8 (T, H, W, 3) with the second each frame was taken."""

    frames: np.ndarray
    times_s: list[float]
    is_image: bool = False
    source: str = ""


@dataclass
class GenerationOptions:
    """How to decode an answer; greedy with 200 new tokens unless told otherwise, like the PLLaVA demo."""

    max_new_tokens: int = 200
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 0.9
    num_beams: int = 1
    repetition_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@runtime_checkable
class VideoLM(Protocol):
    """Frames + messages in, text (or a token stream) out.

    `encode` runs the expensive visual part once; a chat keeps the returned handle and passes it to
    every later turn, so a second question never re-encodes the video. A handle of None asks a
    text-only question (the `model` translator does); a backend that cannot answer without a video
    raises BackendError saying so.
    """

    name: str

    def encode(self, clip: VideoClip) -> Any:
        """Turn a clip into whatever the backend needs per turn (features, uploaded images...)."""
        ...

    def generate(self, video: Any, messages: list[Message], options: GenerationOptions) -> str:
        """Answer the last user message about `video` (a handle from `encode`)."""
        ...

    def stream(self, video: Any, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Like `generate`, yielding text pieces as they are produced."""
        ...
