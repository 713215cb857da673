"""Transformers video-language models (Qwen2.5/3-VL, LLaVA-OneVision, LLaVA-NeXT-Video, SmolVLM2)."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.optional import require
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.vlm.frames import scale_to_budget
from sitewatch.vlm.generation import Placement, loading_kwargs, placement, stop_kwargs, stream_generation

if TYPE_CHECKING:
    from sitewatch.settings import Settings

log = logging.getLogger(__name__)

# Timestamps reach the processor as frame indices of a virtual 100 fps stream: centisecond precision.
_METADATA_FPS = 100.0


@dataclass
class EncodedVideo:
    """A clip preprocessed once per chat: processor tensors plus the placeholder text they expand to."""

    mode: Literal["video", "images"]
    times_s: list[float]
    tensors: dict[str, Any]
    image_replacements: list[str] = field(default_factory=list)
    video_replacements: list[str] = field(default_factory=list)


def load(target: str, settings: Settings) -> HFVideoLM:
    """Load a transformers image-text-to-text model with video support from a hub id or a folder."""
    require("torch", "vlm")
    require("transformers", "vlm")
    return HFVideoLM(target, settings)


class HFVideoLM:
    """A `VideoLM` over `AutoProcessor` + `AutoModelForImageTextToText`."""

    def __init__(self, target: str, settings: Settings) -> None:
        import torch

        self.name = f"hf:{target}"
        self.pixel_budget = settings.hf_pixel_budget
        config = _load_config(target)
        where = placement(settings, device_map=settings.hf_device_map)
        self.device, self.dtype = where.device, where.dtype
        self.processor, native_video = _load_processor(target, config)
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
        kwargs = self.processor._merge_kwargs(
            tokenizer_init_kwargs=self.processor.tokenizer.init_kwargs, return_tensors="pt"
        )
        if self.mode == "images" or clip.is_image or len(frames) == 1:
            # The processor's own layout (SmolVLM nests images per sample).
            images = self.processor.prepare_inputs_layout(images=list(frames))[0]
            tensors, replacements = self.processor._process_images(images, **kwargs["images_kwargs"])
            encoded = EncodedVideo("images", list(clip.times_s), dict(tensors), image_replacements=replacements)
        else:
            video_kwargs = {
                **kwargs["videos_kwargs"],
                "video_metadata": [_metadata(clip.times_s, frames.shape)],
                "do_sample_frames": False,
                "return_metadata": True,
            }
            tensors, replacements = self.processor._process_videos([frames], **video_kwargs)
            encoded = EncodedVideo("video", list(clip.times_s), dict(tensors), video_replacements=replacements)
        encoded.tensors = {k: v for k, v in encoded.tensors.items() if k not in self.processor.unused_input_names}
        encoded.tensors = {key: self._to_device(value) for key, value in encoded.tensors.items()}
        return encoded

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
        conversation = _conversation(messages, video)
        prompt = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        text, _ = self.processor.get_text_with_replacements(
            [prompt], list(video.image_replacements), list(video.video_replacements)
        )
        text_inputs = self.processor.tokenizer(text, return_tensors="pt")
        if self.processor.return_mm_token_type_ids:
            type_ids = self.processor.create_mm_token_type_ids(text_inputs["input_ids"].tolist())
            text_inputs["mm_token_type_ids"] = self._torch.tensor(type_ids)
        inputs = {key: value.to(self.model.device) for key, value in text_inputs.items()}
        return {**inputs, **video.tensors}

    def _generation_kwargs(self, options: GenerationOptions) -> dict[str, Any]:
        """Map GenerationOptions onto `model.generate` arguments."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "do_sample": options.do_sample,
            "num_beams": options.num_beams,
            "repetition_penalty": options.repetition_penalty,
            "pad_token_id": self.processor.tokenizer.pad_token_id or self.processor.tokenizer.eos_token_id,
        }
        if options.do_sample:
            kwargs.update(temperature=options.temperature, top_p=options.top_p)
        else:
            # Greedy decoding: silence the sampling defaults some generation configs ship with.
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return {**kwargs, **stop_kwargs(options.stop, self.processor.tokenizer)}

    def _to_device(self, value: Any) -> Any:
        """Move a tensor to the model's device; floating tensors also take the model's dtype."""
        if not isinstance(value, self._torch.Tensor):
            return value
        if value.is_floating_point():
            return value.to(self.model.device, dtype=self.model.dtype)
        return value.to(self.model.device)


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
    if len(video.image_replacements) == 1:
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


def _load_processor(target: str, config: Any) -> tuple[Any, bool]:
    """The model's processor and whether it takes native video input.

    Every transformers video processor needs torchvision; without it the processor is rebuilt from its
    tokenizer and (PIL) image processor and the frames go in as images.
    """
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(target)
    except ImportError:
        log.warning("%s: no video processor (transformers needs torchvision for one); frames go in as images", target)
        return _processor_without_video(target, config), False
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the processor of '{target}': {exc}") from exc
    if not hasattr(processor, "image_processor") and not hasattr(processor, "video_processor"):
        raise ModelLoadError(f"'{target}' has no image or video processor")
    return processor, getattr(processor, "video_processor", None) is not None


def _processor_without_video(target: str, config: Any) -> Any:
    """Build the model's processor class with an inert video processor (frames-as-images mode)."""
    from transformers import AutoImageProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING
    from transformers.video_processing_utils import VideoProcessorMixin

    try:
        processor_class = PROCESSOR_MAPPING[type(config)]
        processor_dict, _ = processor_class.get_processor_dict(target)
        tokenizer = AutoTokenizer.from_pretrained(target)
        image_processor = AutoImageProcessor.from_pretrained(target, backend="pil")
    except (KeyError, OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the processor of '{target}': {exc}") from exc
    kwargs: dict[str, Any] = {"image_processor": image_processor, "tokenizer": tokenizer}
    if "video_processor" in processor_class.get_attributes():
        kwargs["video_processor"] = _inert_video_processor(VideoProcessorMixin)
    # processor_config.json carries init arguments such as num_image_tokens or image_seq_len.
    accepted = inspect.signature(processor_class.__init__).parameters
    kwargs.update({k: v for k, v in processor_dict.items() if k in accepted and k not in kwargs})
    kwargs["chat_template"] = processor_dict.get("chat_template") or tokenizer.chat_template
    return _images_only(processor_class)(**kwargs)


def _inert_video_processor(base: type) -> Any:
    """A video processor that only answers the attribute lookups processors make (num_frames, fps)."""

    def preprocess(self: Any, videos: Any, **kwargs: Any) -> Any:
        raise BackendError("this model was loaded without a video processor: install torchvision")

    return type("NoVideoProcessor", (base,), {"num_frames": None, "fps": None, "preprocess": preprocess})()


def _images_only(processor_class: type) -> type:
    """A subclass that accepts the inert video processor (its class check needs torchvision)."""

    def check_argument_for_proper_class(self: Any, argument_name: str, argument: Any) -> type:
        if argument_name == "video_processor":
            return type(argument)
        return processor_class.check_argument_for_proper_class(self, argument_name, argument)

    return type(
        processor_class.__name__,
        (processor_class,),
        {"check_argument_for_proper_class": check_argument_for_proper_class},
    )


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
