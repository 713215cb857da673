"""The `VideoLM` protocol every video-language backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from sitewatch.schema import GenerationOptions, Message, VideoClip


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
