"""The `pllava` VideoLM backend: encode a clip once, then answer every chat turn from its features."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.optional import require
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.vlm.generation import cut_at_stop, stop_kwargs, stream_generation

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

    from sitewatch.settings import Settings
    from sitewatch.vlm.pllava.modeling import PllavaForConditionalGeneration
    from sitewatch.vlm.pllava.prompts import Template

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PllavaVideo:
    """Pooled visual features of one clip, (tokens, hidden) on the embedding device: the chat cache."""

    features: torch.Tensor
    source: str
    frames_used: int


class PllavaBackend:
    """PLLaVA 7B/13B/34B behind the VideoLM protocol, with the pooled-feature cache between turns."""

    def __init__(
        self,
        model: PllavaForConditionalGeneration,
        tokenizer: PreTrainedTokenizerBase,
        name: str,
        template: Template | None = None,
    ) -> None:
        from sitewatch.vlm.pllava.prompts import template_for

        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.template = template or template_for(tokenizer)
        self.config = model.config
        stop_id = tokenizer.convert_tokens_to_ids(self.template.stop_token)
        configured = model.generation_config.eos_token_id
        eos = set(configured) if isinstance(configured, list) else {configured}
        eos.add(tokenizer.eos_token_id)
        if stop_id is not None and stop_id != tokenizer.unk_token_id:
            # 34B: <|im_end|> ends an answer; without it the model runs on into a new turn.
            eos.add(stop_id)
        self.eos_ids = sorted(i for i in eos if isinstance(i, int))

    def encode(self, clip: VideoClip) -> PllavaVideo:
        """Run the vision tower and pooling projector once; the result is reused by every later turn."""
        import torch

        from sitewatch.vlm.pllava.processing import choose_frames, preprocess_frames

        frames = choose_frames(clip.frames, self.config.num_frames, clip.is_image)
        pixels = preprocess_frames(frames, self.config.vision_config.image_size)
        tower = self.model.model.vision_tower
        with torch.inference_mode():
            out = self.model.model.get_image_features(pixels.to(next(tower.parameters()).device))
        embed_device = self.model.get_input_embeddings().weight.device
        return PllavaVideo(out.pooler_output[0].to(embed_device), clip.source, len(frames))

    def prompt_ids(self, messages: list[Message], max_new_tokens: int) -> list[int]:
        """Rendered, tokenised and placeholder-expanded prompt, old turns trimmed to the position budget."""
        from sitewatch.vlm.pllava.processing import expand_image_token
        from sitewatch.vlm.pllava.prompts import render, trim_history

        visual = self.config.tokens_per_video
        limit = self.config.text_config.max_position_embeddings

        def fits(candidate: list[Message]) -> bool:
            return len(self._tokenize(render(self.template, candidate))) - 1 + visual + max_new_tokens <= limit

        kept = trim_history(messages, fits)
        ids = self._tokenize(render(self.template, kept))
        return expand_image_token(ids, self.config.image_token_id, visual)

    def _tokenize(self, text: str) -> list[int]:
        """Token ids with the tokenizer's own BOS handling, as the original processor did."""
        return list(self.tokenizer(text)["input_ids"])

    def _generate_kwargs(
        self, video: PllavaVideo, messages: list[Message], options: GenerationOptions
    ) -> dict[str, Any]:
        """Inputs for model.generate: embeddings with the cached features, so the vision tower is skipped."""
        import torch
        from transformers import GenerationConfig

        if video is None:
            raise BackendError(
                "PLLaVA answers only about a video and cannot translate text on its own: "
                "choose the openai or hf translator (SITEWATCH_TRANSLATOR)"
            )
        if not isinstance(video, PllavaVideo):
            raise BackendError("pass the handle returned by encode() to generate/stream")
        if not messages or messages[-1].role != "user":
            raise BackendError("the conversation must end with a user message")
        ids = self.prompt_ids(messages, options.max_new_tokens)
        device = self.model.get_input_embeddings().weight.device
        input_ids = torch.tensor([ids], device=device)
        with torch.inference_mode():
            embeds = self.model.embed_with_video(input_ids, video.features)
        # Temperature 0 means "no randomness": greedy, rather than a division by zero.
        sampling = options.do_sample and options.temperature > 0
        settings: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "num_beams": options.num_beams,
            "repetition_penalty": options.repetition_penalty,
            "do_sample": sampling,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0,
        }
        if sampling:
            settings.update(temperature=options.temperature, top_p=options.top_p)
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "inputs_embeds": embeds,
            "attention_mask": torch.ones_like(input_ids),
            "generation_config": GenerationConfig(**settings),
        }
        kwargs.update(stop_kwargs(options.stop, self.tokenizer))
        if options.seed is not None:
            torch.manual_seed(options.seed)
        return kwargs

    def generate(self, video: Any, messages: list[Message], options: GenerationOptions) -> str:
        """Answer the last user message: only new tokens are decoded, cut at a stop string, stripped."""
        import torch

        kwargs = self._generate_kwargs(video, messages, options)
        prompt_length = kwargs["input_ids"].shape[1]
        with torch.inference_mode():
            output = self.model.generate(**kwargs)
        text = self.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
        return cut_at_stop(text, options.stop)[0].strip()

    def stream(self, video: Any, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Yield the answer in pieces as tokens arrive; the pieces join to exactly what `generate` returns."""
        import torch

        if options.num_beams > 1:
            # transformers cannot stream beam search: the best beam is only known at the end.
            yield self.generate(video, messages, options)
            return
        kwargs = self._generate_kwargs(video, messages, options)

        def run(streamer: Any) -> None:
            with torch.inference_mode():
                self.model.generate(**kwargs, streamer=streamer)

        yield from stream_generation(run, self.tokenizer, options.stop, "PLLaVA")

def load(
    target: str, settings: Settings, lora_alpha: float | None = None, attn_implementation: str = "sdpa"
) -> PllavaBackend:
    """Load PLLaVA from a released or converted folder or hub id; `lora_alpha` defaults to 4 as released."""
    require("torch", "vlm")
    require("transformers", "vlm")
    from sitewatch.vlm.pllava.loader import load_model
    from sitewatch.vlm.pllava.weights import DEFAULT_LORA_ALPHA, locate

    folder = locate(target)
    alpha = DEFAULT_LORA_ALPHA if lora_alpha is None else lora_alpha
    try:
        model, tokenizer = load_model(folder, settings, alpha, attn_implementation)
    except ModelLoadError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"could not load PLLaVA from {folder}: {exc}") from exc
    logger.info("loaded PLLaVA from %s (%s tokens per video)", folder, model.config.tokens_per_video)
    return PllavaBackend(model, tokenizer, name=f"pllava:{target}")
