"""The transformers backend on tiny random models built offline, one per supported family."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.settings import Settings
from sitewatch.vlm.base import VideoLM
from sitewatch.vlm.registry import load_backend, resolve

SENTENCES = [
    "a worker fell from the ladder at the site",
    "no accident happened in this video",
    "what happened in the video? describe the people",
]


def _template(begin: str, end: str, image: str, video: str) -> str:
    """A small chat template in the shape of the real ones, with one family's markers."""
    return (
        "{% for message in messages %}" + begin + "{{ message['role'] }}\n"
        "{% for part in message['content'] %}"
        "{% if part['type'] == 'image' %}"
        + image
        + "{% elif part['type'] == 'video' %}"
        + video
        + "{% else %}{{ part['text'] }}{% endif %}{% endfor %}"
        + end
        + "\n{% endfor %}"
        "{% if add_generation_prompt %}" + begin + "assistant\n{% endif %}"
    )


def _tokenizer(special: list[str], eos: str, pad: str, **extra: str):
    """A byte-level BPE tokenizer trained on a few sentences, with the family's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(SENTENCES, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=pad, **extra)


def _save(folder: Path, model, tokenizer, image_processor, video_processor: dict, template: str) -> Path:
    """Write a model folder the way the hub lays one out (video processor config as plain JSON)."""
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    image_processor.save_pretrained(folder)
    (folder / "video_preprocessor_config.json").write_text(json.dumps(video_processor))
    (folder / "chat_template.jinja").write_text(template)
    return folder


QWEN_SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


def _qwen_ids(tokenizer) -> dict[str, int]:
    """The vision token ids a Qwen-VL config needs."""
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL}
    return {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }


def _qwen_text(tokenizer) -> dict:
    """A one-layer Qwen2 text config."""
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.pad_token_id,
    }


QWEN_TEMPLATE = _template(
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|><|image_pad|><|vision_end|>",
    "<|vision_start|><|video_pad|><|vision_end|>",
)
QWEN_PIXELS = {
    "min_pixels": 28 * 28,
    "max_pixels": 56 * 56,
    "patch_size": 14,
    "merge_size": 2,
    "temporal_patch_size": 2,
}


def build_qwen2_5_vl(folder: Path) -> Path:
    """Tiny Qwen2.5-VL."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = _tokenizer(QWEN_SPECIAL, "<|im_end|>", "<|endoftext|>")
    config = Qwen2_5_VLConfig(
        text_config=_qwen_text(tokenizer),
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [0],
        },
        **_qwen_ids(tokenizer),
    )
    video = {"video_processor_type": "Qwen2VLVideoProcessor", **QWEN_PIXELS}
    return _save(
        folder,
        Qwen2_5_VLForConditionalGeneration(config),
        tokenizer,
        Qwen2VLImageProcessorPil(**QWEN_PIXELS),
        video,
        QWEN_TEMPLATE,
    )


def _tiny_text(tokenizer, model_type: str) -> dict:
    """A one-layer decoder config for the LLaVA and SmolVLM families."""
    return {
        "model_type": model_type,
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.pad_token_id,
    }


def _tiny_vision(model_type: str, image_size: int, patch_size: int) -> dict:
    """A one-layer ViT config."""
    return {
        "model_type": model_type,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
    }


LLAVA_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
LLAVA_TEMPLATE = _template("<|im_start|>", "<|im_end|>", "<image>", "<video>")


def build_llava_onevision(folder: Path) -> Path:
    """Tiny LLaVA-OneVision (SigLIP + Qwen2)."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
        LlavaOnevisionImageProcessorPil,
    )

    tokenizer = _tokenizer(LLAVA_SPECIAL, "<|im_end|>", "<|endoftext|>")
    config = LlavaOnevisionConfig(
        vision_config=_tiny_vision("siglip_vision_model", 28, 14),
        text_config=_tiny_text(tokenizer, "qwen2"),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        image_grid_pinpoints=[[28, 28]],
    )
    image_processor = LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28}, image_grid_pinpoints=[[28, 28]])
    video = {"video_processor_type": "LlavaOnevisionVideoProcessor", "size": {"height": 28, "width": 28}}
    folder = _save(
        folder, LlavaOnevisionForConditionalGeneration(config), tokenizer, image_processor, video, LLAVA_TEMPLATE
    )
    processor = {"num_image_tokens": 4, "vision_feature_select_strategy": "full", "vision_aspect_ratio": "anyres_max_1"}
    (folder / "processor_config.json").write_text(json.dumps(processor))
    return folder


SMOL_SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<end_of_utterance>",
    "<image>",
    "<fake_token_around_image>",
    "<global-img>",
    "<row_1_col_1>",
    "<video>",
]


def build_smolvlm(folder: Path) -> Path:
    """Tiny SmolVLM2 (SigLIP-style Idefics3 vision + Llama)."""
    from transformers import SmolVLMConfig, SmolVLMForConditionalGeneration
    from transformers.models.smolvlm.image_processing_pil_smolvlm import SmolVLMImageProcessorPil

    tokenizer = _tokenizer(SMOL_SPECIAL, "<end_of_utterance>", "<|endoftext|>")
    config = SmolVLMConfig(
        vision_config=_tiny_vision("smolvlm_vision", 28, 14),
        text_config=_tiny_text(tokenizer, "llama"),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=1,
    )
    image_processor = SmolVLMImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": 28}, max_image_size={"longest_edge": 28}
    )
    video = {
        "video_processor_type": "SmolVLMVideoProcessor",
        "size": {"longest_edge": 28},
        "max_image_size": {"longest_edge": 28},
    }
    template = _template("<|im_start|>", "<end_of_utterance>", "<image>", "<video>")
    folder = _save(folder, SmolVLMForConditionalGeneration(config), tokenizer, image_processor, video, template)
    (folder / "processor_config.json").write_text(json.dumps({"image_seq_len": 4}))
    return folder


def build_qwen3_vl(folder: Path) -> Path:
    """Tiny Qwen3-VL."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = _tokenizer(QWEN_SPECIAL, "<|im_end|>", "<|endoftext|>")
    text = {
        **_qwen_text(tokenizer),
        "head_dim": 16,
        "rope_parameters": {
            "rope_type": "default",
            "mrope_section": [2, 3, 3],
            "rope_theta": 10000.0,
            "mrope_interleaved": True,
        },
    }
    config = Qwen3VLConfig(
        text_config=text,
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "num_position_embeddings": 16,
            "deepstack_visual_indexes": [0],
        },
        **_qwen_ids(tokenizer),
    )
    pixels = {**QWEN_PIXELS, "patch_size": 16, "min_pixels": 32 * 32, "max_pixels": 64 * 64}
    video = {"video_processor_type": "Qwen3VLVideoProcessor", **pixels}
    return _save(
        folder,
        Qwen3VLForConditionalGeneration(config),
        tokenizer,
        Qwen2VLImageProcessorPil(**pixels),
        video,
        QWEN_TEMPLATE,
    )


FAMILIES: dict[str, Callable[[Path], Path]] = {
    "qwen3_vl": build_qwen3_vl,
    "qwen2_5_vl": build_qwen2_5_vl,
    "llava_onevision": build_llava_onevision,
    "smolvlm": build_smolvlm,
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def model_folder(request, tmp_path_factory) -> Path:
    """One tiny model folder per family, built once per test module."""
    folder = tmp_path_factory.mktemp(request.param)
    return FAMILIES[request.param](folder)


def _clip(count: int = 4) -> VideoClip:
    """A short synthetic clip: a bright square moving across a grey background."""
    frames = np.full((count, 48, 64, 3), 90, dtype=np.uint8)
    for i in range(count):
        frames[i, 10:30, 5 + 10 * i : 25 + 10 * i] = 230
    return VideoClip(frames=frames, times_s=[0.5 * i for i in range(count)])


SETTINGS = Settings(device="cpu", dtype="float32", _env_file=None)


def test_load_through_registry_and_generate(model_folder: Path) -> None:
    backend = load_backend(f"hf:{model_folder}", SETTINGS)
    assert isinstance(backend, VideoLM)
    handle = backend.encode(_clip())
    messages = [
        Message(role="system", content="You watch site videos."),
        Message(role="user", content="what happened in the video?"),
    ]
    options = GenerationOptions(max_new_tokens=6, seed=0)
    answer = backend.generate(handle, messages, options)
    assert isinstance(answer, str)
    streamed = "".join(backend.stream(handle, messages, options))
    assert streamed == answer
    assert handle.tensors, "encode should cache the processor's tensors"
    assert handle.mode in ("video", "images")
    text_only = backend.generate(None, messages, options)
    assert isinstance(text_only, str)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ModelLoadError, match="nope"):
        load_backend(f"hf:{missing}", SETTINGS)


def test_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_backend(f"hf:{tmp_path}", SETTINGS)


def test_text_only_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 1}))
    with pytest.raises(ModelLoadError, match="not an image-text-to-text model"):
        load_backend(f"hf:{tmp_path}", SETTINGS)


def test_folder_is_resolved_to_hf(model_folder: Path) -> None:
    assert resolve(str(model_folder)) == ("hf", str(model_folder))


def test_pixel_budget_downscales_frames() -> None:
    from sitewatch.vlm.frames import scale_to_budget

    frames = np.zeros((8, 360, 640, 3), dtype=np.uint8)
    scaled = scale_to_budget(frames, 8 * 100 * 100)
    assert scaled.shape[0] == 8
    assert scaled.shape[1] * scaled.shape[2] * 8 <= 8 * 100 * 100
    assert scale_to_budget(frames, 10**9) is frames


def test_stop_strings_cut_the_stream() -> None:
    from sitewatch.vlm.generation import stream_generation

    class Pieces:
        """Feeds text to a streamer as a generate() call would."""

        def __init__(self, *pieces: str) -> None:
            self.pieces = pieces

        def __call__(self, streamer) -> None:
            for piece in self.pieces:
                streamer.on_finalized_text(piece)
            streamer.end()

    def joined(run, stops):
        return "".join(stream_generation(run, tokenizer=None, stops=stops, name="test"))

    assert joined(Pieces("A worker ", "fell.", "\nUser:", " more"), ["\nUser:"]) == "A worker fell."
    assert joined(Pieces("abc", "def"), []) == "abcdef"
    assert joined(Pieces(" yes", "</", "s> no"), ["</s>"]) == "yes"

    def broken(streamer) -> None:
        raise RuntimeError("out of memory")

    with pytest.raises(BackendError, match="test: generation failed: out of memory"):
        joined(broken, [])


def _has_torchvision() -> bool:
    """Whether transformers can build video processors here."""
    from transformers.utils import is_torchvision_available

    return is_torchvision_available()


@pytest.mark.parametrize(("count", "height", "width"), [(1, 48, 64), (3, 100, 30), (2, 37, 200)])
def test_frame_shapes_expand_to_matching_token_counts(model_folder: Path, count: int, height: int, width: int) -> None:
    # The model refuses a prompt whose image tokens do not match its image features.
    backend = load_backend(f"hf:{model_folder}", SETTINGS)
    frames = np.random.default_rng(count).integers(0, 255, (count, height, width, 3), dtype=np.uint8)
    handle = backend.encode(VideoClip(frames=frames, times_s=[0.4 * i for i in range(count)]))
    assert handle.mode == "images" or count > 1
    question = [Message(role="user", content="what happened?")]
    assert isinstance(backend.generate(handle, question, GenerationOptions(max_new_tokens=2)), str)


@pytest.mark.skipif(_has_torchvision(), reason="torchvision gives native video")
def test_native_video_without_torchvision_is_a_clear_error(model_folder: Path) -> None:
    settings = Settings(device="cpu", dtype="float32", hf_video_input="video", _env_file=None)
    with pytest.raises(ModelLoadError, match="torchvision"):
        load_backend(f"hf:{model_folder}", settings)


@pytest.mark.skipif(not _has_torchvision(), reason="the model's own processor needs torchvision")
def test_frames_as_images_match_the_models_processor(model_folder: Path) -> None:
    from transformers import AutoProcessor

    from sitewatch.vlm import hf

    own = hf._frames_as_images(str(model_folder), hf._load_config(str(model_folder)))
    processor = hf._Processor(AutoProcessor.from_pretrained(model_folder))
    for count, height, width in [(1, 48, 64), (4, 48, 64), (2, 37, 200)]:
        frames = np.random.default_rng(count).integers(0, 255, (count, height, width, 3), dtype=np.uint8)
        own_tensors, own_text = own.images(frames)
        tensors, text = processor.images(frames)
        assert own_text == text
        assert {k: tuple(v.shape) for k, v in own_tensors.items()} == {k: tuple(v.shape) for k, v in tensors.items()}
        video = hf.EncodedVideo("images", [0.5 * i for i in range(count)], tensors, text)
        conversation = hf._conversation([Message(role="user", content="what happened?")], video)
        own_ids, ids = own.tokenize(conversation, video), processor.tokenize(conversation, video)
        assert own_ids.keys() == ids.keys()
        assert all(own_ids[key].tolist() == ids[key].tolist() for key in ids)


def test_backend_calls_no_private_processor_api() -> None:
    # Issue 11: private processor methods can break with any transformers minor release.
    source = (Path(__file__).parents[1] / "sitewatch" / "vlm" / "hf.py").read_text()
    assert not re.search(r"processor\._", source)
