"""What the local (torch) backends share: where weights go, 4-bit loading, stop strings, threaded streaming.

Stopping uses transformers' own `stop_strings` (generation halts as soon as one is produced); the text is
then cut before the earliest stop string, so a stop never reaches the user even when it ends mid-token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.optional import require

if TYPE_CHECKING:
    import torch

    from sitewatch.settings import Settings

@dataclass(frozen=True)
class Placement:
    """Where the weights go: one device, or a device_map across GPUs."""

    device: torch.device
    dtype: torch.dtype
    device_map: str | dict[str, Any] | None


def placement(settings: Settings, device_map: str | None = None) -> Placement:
    """CUDA in bfloat16 when available, else CPU in float32; several GPUs (or 4-bit) use a device_map."""
    import torch

    cuda = torch.cuda.is_available()
    if settings.device == "auto":
        device = torch.device("cuda" if cuda else "cpu")
    else:
        device = torch.device(settings.device)
        if device.type == "cuda" and not cuda:
            raise ModelLoadError(f"device '{settings.device}' asked for, but CUDA is not available")
    if settings.dtype == "auto":
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    else:
        dtype = getattr(torch, settings.dtype)
    if device_map is None:
        multi_gpu = settings.device == "auto" and cuda and torch.cuda.device_count() > 1
        device_map = "auto" if multi_gpu or settings.load_in_4bit else None
    return Placement(device, dtype, device_map)


def loading_kwargs(settings: Settings, where: Placement, keep_full: list[str] | None = None) -> dict[str, Any]:
    """from_pretrained arguments for dtype, placement and 4-bit nf4 (`keep_full` modules stay unquantized)."""
    kwargs: dict[str, Any] = {"dtype": where.dtype}
    if where.device_map is not None:
        require("accelerate", "vlm")
        kwargs["device_map"] = where.device_map
    if settings.load_in_4bit:
        if where.device.type != "cuda":
            raise ModelLoadError("4-bit loading needs a CUDA GPU (bitsandbytes)")
        require("bitsandbytes", "quant")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=where.dtype,
            llm_int8_skip_modules=keep_full,
        )
    return kwargs


def stop_kwargs(stops: list[str], tokenizer: Any) -> dict[str, Any]:
    """generate() arguments that end generation at any of `stops` (transformers' stop_strings)."""
    return {"stop_strings": list(stops), "tokenizer": tokenizer} if stops else {}


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text before the earliest exact stop string (not a character set) and whether one was found."""
    positions = [text.find(stop) for stop in stops if stop and stop in text]
    return (text[: min(positions)], True) if positions else (text, False)


def _held_back(text: str, stops: list[str]) -> int:
    """Length of the longest suffix of `text` that could still grow into a stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if stop.startswith(text[-size:]):
                longest = size
                break
    return longest


def stream_generation(run: Callable[[Any], None], tokenizer: Any, stops: list[str], name: str) -> Iterator[str]:
    """Run `run(streamer)` (a model.generate call) in a thread and yield its text as it comes.

    The pieces join to exactly the final answer: stripped, and ending before the first stop string,
    which is held back until it can no longer be the start of one.
    """
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run(streamer)
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)
            streamer.end()

    worker = threading.Thread(target=work, name=f"{name}-generate", daemon=True)
    worker.start()
    raw, emitted, stopped = "", 0, False
    for piece in streamer:
        if stopped:
            continue
        raw += piece
        text, stopped = cut_at_stop(raw, stops)
        text = text.lstrip()
        safe = (text if stopped else text[: len(text) - _held_back(text, stops)]).rstrip()
        if len(safe) > emitted:
            yield safe[emitted:]
            emitted = len(safe)
    worker.join()
    if errors:
        raise BackendError(f"{name}: generation failed: {errors[0]}") from errors[0]
    final = cut_at_stop(raw, stops)[0].strip()
    if len(final) > emitted:
        yield final[emitted:]
