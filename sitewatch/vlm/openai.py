"""OpenAI-compatible chat servers (vLLM, SGLang, Ollama, llama.cpp, OpenAI) as a `VideoLM`."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.openai_http import ChatEndpoint
from sitewatch.optional import require
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.vlm.frames import encode_mp4, jpeg_data_url, scale_to_budget, subsample

if TYPE_CHECKING:
    from sitewatch.settings import Settings


@dataclass(frozen=True)
class EncodedVideo:
    """The clip's content parts, built once per chat and sent with every turn."""

    parts: list[dict[str, Any]]


def parse_target(target: str) -> tuple[str, str]:
    """Split `model@base_url` into (model, base URL without a trailing slash)."""
    model, sep, base_url = target.rpartition("@")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise ModelLoadError(
            f"openai target '{target}' must look like <model>@<base url>, e.g. qwen2.5-vl@http://127.0.0.1:8000/v1"
        )
    return model, base_url.rstrip("/")


def load(target: str, settings: Settings) -> OpenAIVideoLM:
    """Talk to the model `target` (`<model>@<base url>`) on an OpenAI-compatible server."""
    for module in ("openai", "httpx"):
        require(module, "openai")
    model, base_url = parse_target(target)
    return OpenAIVideoLM(model, base_url, settings)


class OpenAIVideoLM:
    """A `VideoLM` over `/chat/completions` with image_url or video_url content parts."""

    def __init__(self, model: str, base_url: str, settings: Settings) -> None:
        self.name = f"openai:{model}@{base_url}"
        self.model = model
        self.settings = settings
        self.endpoint = ChatEndpoint(
            base_url,
            settings.openai_key_for(base_url),
            settings.timeout_s,
            settings.retries,
            settings.backoff_s,
            extra="openai",
            label="video-language server",
            url_setting="the URL in SITEWATCH_VLM (openai:<model>@<url>)",
            model_setting="the model name in SITEWATCH_VLM and SITEWATCH_OPENAI_API_KEY",
        )
        self.url = self.endpoint.url
        self.retries = self.endpoint.retries

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.endpoint.close()

    def encode(self, clip: VideoClip) -> EncodedVideo:
        """Encode the clip once: an MP4 data URL, or JPEG frames within the image budget."""
        if self.settings.openai_video_input == "video_url" and not clip.is_image and len(clip.frames) > 1:
            return EncodedVideo([{"type": "video_url", "video_url": {"url": self._video_data_url(clip)}}])
        keep = subsample(len(clip.frames), 1 if clip.is_image else self.settings.openai_max_images)
        parts: list[dict[str, Any]] = []
        for index in keep:
            if len(keep) > 1:
                # The server sees a bag of images: say when each was taken.
                parts.append({"type": "text", "text": f"{clip.times_s[index]:.1f}s:"})
            url = jpeg_data_url(clip.frames[index], self.settings.openai_max_side, self.settings.openai_jpeg_quality)
            parts.append({"type": "image_url", "image_url": {"url": url}})
        return EncodedVideo(parts)

    def generate(self, video: EncodedVideo | None, messages: list[Message], options: GenerationOptions) -> str:
        """Answer the last user message about the clip (one non-streaming request)."""
        return self.endpoint.complete(self._payload(video, messages, options), max_tokens=options.max_new_tokens)

    def stream(self, video: EncodedVideo | None, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Yield the answer as the server streams it (server-sent events)."""
        yield from self.endpoint.stream(self._payload(video, messages, options), max_tokens=options.max_new_tokens)

    def _payload(
        self, video: EncodedVideo | None, messages: list[Message], options: GenerationOptions
    ) -> dict[str, Any]:
        """The `chat.completions.create` arguments (the endpoint adds max_tokens and stream)."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(messages, video),
            "temperature": options.temperature if options.do_sample else 0.0,
        }
        if options.do_sample:
            payload["top_p"] = options.top_p
        if options.stop:
            payload["stop"] = options.stop
        if options.seed is not None:
            payload["seed"] = options.seed
        if options.repetition_penalty != 1.0:
            # Not in OpenAI's API, but vLLM and SGLang honour it; only sent when asked for.
            payload["extra_body"] = {"repetition_penalty": options.repetition_penalty}
        return payload

    def _video_data_url(self, clip: VideoClip) -> str:
        """The clip as an MP4 data URL: the source file's bytes when it is one, else frames encoded here."""
        source = Path(clip.source) if clip.source else None
        if source is not None and source.is_file():
            data, mime = source.read_bytes(), _video_mime(source)
        else:
            frames = scale_to_budget(clip.frames, self.settings.openai_video_pixel_budget)
            data, mime = encode_mp4(frames, clip.times_s), "video/mp4"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _messages(messages: list[Message], video: EncodedVideo | None) -> list[dict[str, Any]]:
    """OpenAI chat messages; the clip's parts (none for a text-only question) open the first user turn."""
    parts = video.parts if video is not None else []
    out: list[dict[str, Any]] = []
    placed = False
    for message in messages:
        if message.role == "user" and not placed:
            content = [*parts, {"type": "text", "text": message.content}]
            out.append({"role": "user", "content": content})
            placed = True
        else:
            out.append({"role": message.role, "content": message.content})
    if not placed:
        raise BackendError("the conversation has no user message to attach the video to")
    return out


def _video_mime(path: Path) -> str:
    """MIME type of a video file from its extension."""
    return {".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}.get(
        path.suffix.lower(), "video/mp4"
    )
