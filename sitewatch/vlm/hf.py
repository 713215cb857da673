"""Transformers video-language models (Qwen2.5/3-VL, LLaVA-OneVision, LLaVA-NeXT-Video, SmolVLM2)."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.optional import require
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.vlm.frames import scale_to_budget
from sitewatch.vlm.generation import Placement, loading_kwargs, placement, stop_kwargs, stream_generation

if TYPE_CHECKING:
    import numpy as np

    from sitewatch.settings import Settings

log = logging.getLogger(__name__)

# Timestamps reach the processor as frame indices of a virtual 100 fps stream: centisecond precision.
_METADATA_FPS = 100.0


@dataclass
class EncodedVideo:
    """A clip preprocessed once per chat: vision tensors plus the text each of its placeholders expands to."""

    mode: Literal["video", "images"]
    times_s: list[float]
    tensors: dict[str, Any]
    replacements: list[str] = field(default_factory=list)


def load(target: str, settings: Settings) -> HFVideoLM:
    """Load a transformers image-text-to-text model with video support from a hub id or a folder."""
    require("torch", "vlm")
    require("transformers", "vlm")
    return HFVideoLM(target, settings)


class HFVideoLM:
    """A `VideoLM` over the model's processor + `AutoModelForImageTextToText`."""

    def __init__(self, target: str, settings: Settings) -> None:
        import torch

        self.name = f"hf:{target}"
        self.pixel_budget = settings.hf_pixel_budget
        config = _load_config(target)
        where = placement(settings, device_map=settings.hf_device_map)
        self.device, self.dtype = where.device, where.dtype
        self.processor = _load_processor(target, config)
        native_video = isinstance(self.processor, _Processor) and self.processor.native_video
        self.mode: Literal["video", "images"] = "video" if native_video else "images"
        if settings.hf_video_input == "images":
            self.mode = "images"
        elif settings.hf_video_input == "video" and not native_video:
            raise ModelLoadError(
                f"{target}: native video input needs torchvision (pip install torchvision); "
                "set SITEWATCH_HF_VIDEO_INPUT=images to send frames as images"
            )
        self.model = _load_model(target, where, settings)
        self._generate_lock = threading.Lock()
        log.info("loaded %s on %s (%s, %s input)", target, self.device, self.dtype, self.mode)
        self._torch = torch

    def encode(self, clip: VideoClip) -> EncodedVideo:
        """Preprocess the clip's frames once: resize to the pixel budget and run the vision processor."""
        frames = scale_to_budget(clip.frames, self.pixel_budget)
        # Video mode implies the model's own processor; the isinstance narrows the type for readers and checkers.
        if self.mode == "video" and isinstance(self.processor, _Processor) and not clip.is_image and len(frames) > 1:
            tensors, replacements = self.processor.video(frames, _metadata(clip.times_s, frames.shape))
            mode: Literal["video", "images"] = "video"
        else:
            tensors, replacements = self.processor.images(frames)
            mode = "images"
        tensors = {key: self._to_device(value) for key, value in tensors.items()}
        return EncodedVideo(mode, list(clip.times_s), tensors, replacements)

    def generate(self, video: EncodedVideo | None, messages: list[Message], options: GenerationOptions) -> str:
        """Answer the last user message about the encoded clip."""
        return "".join(self.stream(video, messages, options))

    def stream(self, video: EncodedVideo | None, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Yield the answer piece by piece as tokens arrive (one generation at a time per model)."""
        kwargs = {**self._inputs(video, messages), **self._generation_kwargs(options)}

        def run(streamer: Any) -> None:
            with self._generate_lock, self._torch.inference_mode():
                if options.seed is not None:
                    self._torch.manual_seed(options.seed)
                self.model.generate(**kwargs, streamer=streamer)

        yield from stream_generation(run, self.processor.tokenizer, options.stop, self.name)

    def _inputs(self, video: EncodedVideo | None, messages: list[Message]) -> dict[str, Any]:
        """Tokenise the chat with the clip's placeholders expanded, joined to the cached vision tensors."""
        # None asks a text-only question (the `model` translator): no placeholders, no vision tensors.
        video = video if video is not None else EncodedVideo("images", [], {})
        text_inputs = self.processor.tokenize(_conversation(messages, video), video)
        inputs = {key: value.to(self.model.device) for key, value in text_inputs.items()}
        return {**inputs, **video.tensors}

    def _generation_kwargs(self, options: GenerationOptions) -> dict[str, Any]:
        """Map GenerationOptions onto `model.generate` arguments."""
        tokenizer = self.processor.tokenizer
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "do_sample": options.do_sample,
            "num_beams": options.num_beams,
            "repetition_penalty": options.repetition_penalty,
            "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id,
        }
        if options.do_sample:
            kwargs.update(temperature=options.temperature, top_p=options.top_p)
        else:
            # Greedy decoding: silence the sampling defaults some generation configs ship with.
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return {**kwargs, **stop_kwargs(options.stop, tokenizer)}

    def _to_device(self, value: Any) -> Any:
        """Move a tensor to the model's device; floating tensors also take the model's dtype."""
        if not isinstance(value, self._torch.Tensor):
            return value
        if value.is_floating_point():
            return value.to(self.model.device, dtype=self.model.dtype)
        return value.to(self.model.device)


class _Processor:
    """The model's own transformers processor, called through its public methods only."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.native_video = getattr(processor, "video_processor", None) is not None

    def images(self, frames: np.ndarray) -> tuple[dict[str, Any], list[str]]:
        """Vision tensors of the frames as images, and what each image placeholder expands to."""
        return self._vision(self.processor.image_token * len(frames), images=list(frames))

    def video(self, frames: np.ndarray, metadata: Any) -> tuple[dict[str, Any], list[str]]:
        """Vision tensors of the frames as one video at their own times, and what its placeholder expands to."""
        # The frames are already sampled: the metadata only tells the processor their times.
        return self._vision(
            self.processor.video_token, videos=[frames], video_metadata=[metadata], do_sample_frames=False
        )

    def _vision(self, placeholders: str, **media: Any) -> tuple[dict[str, Any], list[str]]:
        """Run the processor once on bare placeholders; keep its vision tensors and its expansions for every turn."""
        out = self.processor(text=[placeholders], return_text_replacement_offsets=True, return_tensors="pt", **media)
        replacements = [offset["replacement"] for offset in out["text_replacement_offsets"][0]]
        text_keys = {*self.tokenizer.model_input_names, "mm_token_type_ids", "text_replacement_offsets"}
        return {key: value for key, value in out.items() if key not in text_keys}, replacements

    def tokenize(self, conversation: list[dict[str, Any]], video: EncodedVideo) -> dict[str, Any]:
        """Token ids of the chat with the clip's placeholders expanded (and the modality ids Qwen's positions use)."""
        import torch

        prompt = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        images, videos = (video.replacements, []) if video.mode == "images" else ([], video.replacements)
        text, _ = self.processor.get_text_with_replacements([prompt], images, videos)
        inputs = dict(self.tokenizer(text, return_tensors="pt"))
        if self.processor.return_mm_token_type_ids:
            type_ids = self.processor.create_mm_token_type_ids(inputs["input_ids"].tolist())
            inputs["mm_token_type_ids"] = torch.tensor(type_ids)
        return inputs


@dataclass(frozen=True)
class _Family:
    """How a model family's processor lays out frames and expands one image placeholder (frames-as-images)."""

    expand: Callable[[_FramesAsImages, Any, int], str]
    nested: bool = False  # SmolVLM batches images per sample
    image_kwargs: dict[str, Any] = field(default_factory=dict)
    unused: tuple[str, ...] = ()  # image-processor outputs the model does not take
    type_ids: bool = False  # Qwen's multimodal rope positions need mm_token_type_ids


class _FramesAsImages:
    """Tokenizer, image processor and the family's placeholder expansion: frames as images without torchvision."""

    # transformers builds no processor of a video model without torchvision (see `_load_processor`), so the
    # expansion that processor would compute is done here; a test checks it against the processor's own.
    def __init__(
        self, tokenizer: Any, image_processor: Any, config: Any, processor_config: dict[str, Any], family: _Family
    ) -> None:
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.processor_config = processor_config  # image_seq_len, num_image_tokens, chat_template...
        self.family = family
        self.image_token_id = config.image_token_id
        self.image_token = tokenizer.convert_ids_to_tokens(config.image_token_id)
        self.chat_template = processor_config.get("chat_template") or tokenizer.chat_template

    def images(self, frames: np.ndarray) -> tuple[dict[str, Any], list[str]]:
        """Vision tensors of the frames as images, and what each image placeholder expands to."""
        layout = [list(frames)] if self.family.nested else list(frames)
        out = self.image_processor(layout, return_tensors="pt", **self.family.image_kwargs)
        replacements = [self.family.expand(self, out, index) for index in range(len(frames))]
        return {key: value for key, value in out.items() if key not in self.family.unused}, replacements

    def tokenize(self, conversation: list[dict[str, Any]], video: EncodedVideo) -> dict[str, Any]:
        """Token ids of the chat with each image placeholder expanded in order."""
        prompt = self.tokenizer.apply_chat_template(
            conversation, chat_template=self.chat_template, tokenize=False, add_generation_prompt=True
        )
        expansions = iter(video.replacements)
        text = re.sub(re.escape(self.image_token), lambda _: next(expansions), prompt)
        inputs = dict(self.tokenizer([text], return_tensors="pt"))
        if self.family.type_ids:
            inputs["mm_token_type_ids"] = (inputs["input_ids"] == self.image_token_id).long()
        return inputs


def _qwen_image(frames: _FramesAsImages, out: Any, index: int) -> str:
    """One token per merged patch group (Qwen2VLProcessor.replace_image_token)."""
    merged = int(out["image_grid_thw"][index].prod()) // frames.image_processor.merge_size**2
    return frames.image_token * merged


def _llava_onevision_image(frames: _FramesAsImages, out: Any, index: int) -> str:
    """Base features, the unpadded anyres grid and its row newlines (LlavaOnevisionProcessor, one image a sample)."""
    from transformers.image_processing_utils import select_best_resolution

    height, width = (int(side) for side in out["image_sizes"][index])
    tile_h, tile_w = out["pixel_values"].shape[-2:]
    best_h, best_w = select_best_resolution([height, width], frames.image_processor.image_grid_pinpoints)
    base = frames.processor_config["num_image_tokens"]
    patches = int(math.sqrt(base))
    rows, cols = patches * (best_h // tile_h), patches * (best_w // tile_w)
    if width / height > cols / rows:
        rows -= (rows - int(round(height * cols / width, 7))) // 2 * 2
    else:
        cols -= (cols - int(round(width * rows / height, 7))) // 2 * 2
    unpadded, newlines = rows * cols, rows
    max_tiles = int(frames.processor_config.get("vision_aspect_ratio", "anyres_max_9").removeprefix("anyres_max_"))
    ratio = math.sqrt(rows * cols / (max_tiles * patches**2))
    if ratio > 1.1:
        unpadded, newlines = int(rows // ratio) * int(cols // ratio), int(rows // ratio)
    count = base + unpadded + newlines
    if frames.processor_config.get("vision_feature_select_strategy") == "default":
        count -= 1
    return frames.image_token * count


def _smolvlm_image(frames: _FramesAsImages, out: Any, index: int) -> str:
    """The tiles row by row, then the global image, each framed by fake tokens (SmolVLMProcessor)."""
    rows, cols = out["rows"][0][index], out["cols"][0][index]
    fake = getattr(frames.tokenizer, "fake_image_token", "<fake_token_around_image>")
    image = frames.image_token * frames.processor_config.get("image_seq_len", 169)  # SmolVLMProcessor's default
    whole = f"{fake}{getattr(frames.tokenizer, 'global_image_token', '<global-img>')}{image}{fake}"
    if rows == cols == 0:
        return whole
    tiles = "".join("".join(f"{fake}<row_{r + 1}_col_{c + 1}>{image}" for c in range(cols)) + "\n" for r in range(rows))
    return f"{tiles}\n{whole}"


_QWEN = _Family(_qwen_image, type_ids=True)
_FAMILIES = {
    "qwen2_vl": _QWEN,
    "qwen2_5_vl": _QWEN,
    "qwen3_vl": _QWEN,
    "qwen3_vl_moe": _QWEN,
    "llava_onevision": _Family(_llava_onevision_image),
    "smolvlm": _Family(
        _smolvlm_image, nested=True, image_kwargs={"return_row_col_info": True}, unused=("rows", "cols")
    ),
}


def _metadata(times_s: list[float], shape: tuple[int, ...]) -> Any:
    """VideoMetadata whose frame indices/fps reproduce the clip's own frame times."""
    from transformers.video_utils import VideoMetadata

    start = times_s[0] if times_s else 0.0
    indices = [round((t - start) * _METADATA_FPS) for t in times_s]
    for i in range(1, len(indices)):
        indices[i] = max(indices[i], indices[i - 1] + 1)
    return VideoMetadata(
        total_num_frames=indices[-1] + 1,
        fps=_METADATA_FPS,
        width=shape[2],
        height=shape[1],
        duration=(indices[-1] + 1) / _METADATA_FPS,
        frames_indices=indices,
    )


def _conversation(messages: list[Message], video: EncodedVideo) -> list[dict[str, Any]]:
    """Chat-template messages; the clip goes before the text of the first user turn."""
    conversation: list[dict[str, Any]] = []
    placed = False
    for message in messages:
        parts: list[dict[str, Any]] = []
        if message.role == "user" and not placed:
            parts.extend(_visual_parts(video))
            placed = True
        parts.append({"type": "text", "text": message.content})
        conversation.append({"role": message.role, "content": parts})
    if not placed:
        raise BackendError("the conversation has no user message to attach the video to")
    return conversation


def _visual_parts(video: EncodedVideo) -> list[dict[str, Any]]:
    """One video part, or per frame its time (else the model cannot know it) and an image part."""
    if video.mode == "video":
        return [{"type": "video"}]
    if len(video.replacements) == 1:
        return [{"type": "image"}]
    parts: list[dict[str, Any]] = []
    for t in video.times_s:
        parts.extend([{"type": "text", "text": f"{t:.1f}s:"}, {"type": "image"}])
    return parts


def _looks_local(target: str) -> bool:
    """A path rather than a hub id: absolute, relative with ./ or ~, or already on disk."""
    return target.startswith(("/", ".", "~")) or Path(target).expanduser().exists()


def _load_config(target: str) -> Any:
    """The model's config, refusing missing folders and models without image-text-to-text support."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING

    if _looks_local(target):
        folder = Path(target).expanduser()
        if not folder.is_dir():
            raise ModelLoadError(f"model folder {folder} does not exist")
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder} has no config.json: not a transformers model folder")
    try:
        config = AutoConfig.from_pretrained(target)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read the model config of '{target}': {exc}") from exc
    if type(config) not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING:
        raise ModelLoadError(
            f"'{target}' is a '{config.model_type}' model, not an image-text-to-text model "
            "(AutoModelForImageTextToText cannot load it)"
        )
    return config


def _load_processor(target: str, config: Any) -> _Processor | _FramesAsImages:
    """The model's processor, or without torchvision its tokenizer and image processor (frames go in as images)."""
    from transformers import AutoProcessor

    # Every transformers video processor needs torchvision, and so does building any processor that has one:
    # `ProcessorMixin.check_argument_for_proper_class` finds `VideoProcessorMixin` only among torchvision exports.

    try:
        processor = AutoProcessor.from_pretrained(target)
    except ImportError:
        log.warning("%s: no video processor (transformers needs torchvision for one); frames go in as images", target)
        return _frames_as_images(target, config)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the processor of '{target}': {exc}") from exc
    if not hasattr(processor, "image_processor") and not hasattr(processor, "video_processor"):
        raise ModelLoadError(f"'{target}' has no image or video processor")
    return _Processor(processor)


def _frames_as_images(target: str, config: Any) -> _FramesAsImages:
    """The frames-as-images preprocessing of a supported family, from the tokenizer and the image processor."""
    from transformers import AutoImageProcessor, AutoTokenizer, ProcessorMixin

    family = _FAMILIES.get(config.model_type)
    if family is None:
        raise ModelLoadError(
            f"'{target}' ({config.model_type}) needs torchvision for its processor (pip install torchvision)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(target)
        image_processor = AutoImageProcessor.from_pretrained(target)
        processor_config, _ = ProcessorMixin.get_processor_dict(target)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the processor of '{target}': {exc}") from exc
    return _FramesAsImages(tokenizer, image_processor, config, processor_config, family)


def _load_model(target: str, where: Placement, settings: Settings) -> Any:
    """AutoModelForImageTextToText on one device, spread over GPUs (a device_map), or in 4-bit nf4."""
    from transformers import AutoModelForImageTextToText

    kwargs = loading_kwargs(settings, where)
    if settings.hf_attn_implementation:
        kwargs["attn_implementation"] = settings.hf_attn_implementation
    try:
        model = AutoModelForImageTextToText.from_pretrained(target, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the weights of '{target}': {exc}") from exc
    if where.device_map is None:
        model = model.to(where.device)
    return model.eval()
