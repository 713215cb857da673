"""Tiny random PLLaVA checkpoints in the ORIGINAL released layout (PEFT names, unmerged LoRA, shards)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlavaConfig, LlavaForConditionalGeneration, PreTrainedTokenizerFast

SENTENCES = [
    "A worker falls from the ladder on the building site.",
    "The man is dancing in the street while people watch.",
    "What is the woman doing? She is doing yoga on a mat.",
    "Describe the background, characters and the actions in the provided video.",
    "A crane drops a steel beam next to two workers wearing helmets.",
    "USER: ASSISTANT: system user assistant video frame safety accident",
]

LORA_RANK = 8
VOCAB_PADDED = 320
NUM_FRAMES = 4
TOKENS_PER_VIDEO = 16


@dataclass(frozen=True)
class Geometry:
    """Sizes of a random checkpoint; the defaults are the test model (4 frames of 4x4 patches -> 16 tokens)."""

    image_size: int = 56
    patch: int = 14
    num_frames: int = NUM_FRAMES
    pooling: list[int] = field(default_factory=lambda: [4, 2, 2])
    vision_hidden: int = 32
    vision_layers: int = 3
    text_hidden: int = 64
    text_layers: int = 2


TINY = Geometry()


def build_tokenizer(chatml: bool = False) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained offline on a few sentences, with <s>, </s>, <unk> and <image>."""
    special = ["<unk>", "<s>", "</s>"]
    if chatml:
        special += ["<|im_start|>", "<|im_end|>"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=280, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(SENTENCES, trainer=trainer)
    bos = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>"
    )
    fast.add_special_tokens({"additional_special_tokens": ["<image>"]})
    return fast


def _llava_config(image_token_id: int, size: Geometry) -> LlavaConfig:
    """The transformers-5 config used only to draw random tensors of the right shapes."""
    return LlavaConfig(
        vision_config={
            "model_type": "clip_vision_model",
            "hidden_size": size.vision_hidden,
            "intermediate_size": 2 * size.vision_hidden,
            "num_hidden_layers": size.vision_layers,
            "num_attention_heads": 2,
            "image_size": size.image_size,
            "patch_size": size.patch,
            "projection_dim": 16,
        },
        text_config={
            "model_type": "llama",
            "hidden_size": size.text_hidden,
            "intermediate_size": 2 * size.text_hidden,
            "num_hidden_layers": size.text_layers,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "vocab_size": VOCAB_PADDED,
            "max_position_embeddings": 4096,
            "pad_token_id": 0,
        },
        image_token_index=image_token_id,
        vocab_size=VOCAB_PADDED,
    )


def _released_name(name: str) -> str:
    """transformers-5 key -> the key the released checkpoints use."""
    if name.startswith("model.vision_tower."):
        return "vision_tower.vision_model." + name[len("model.vision_tower.") :]
    if name.startswith("model.multi_modal_projector."):
        return name[len("model.") :]
    if name.startswith("model.language_model."):
        return "language_model.base_model.model.model." + name[len("model.language_model.") :]
    if name == "lm_head.weight":
        return "language_model.base_model.model.lm_head.weight"
    raise AssertionError(name)


def released_config(image_token_id: int, size: Geometry = TINY) -> dict:
    """config.json as released: model_type "llava", pooling keys and the dead keys."""
    reference = _llava_config(image_token_id, size)
    text = reference.text_config.to_dict()
    vision = reference.vision_config.to_dict()
    return {
        "_name_or_path": "MODELS/llava-v1.6-vicuna-7b-hf",
        "architectures": ["PlavaForConditionalGeneration"],
        "model_type": "llava",
        "transformers_version": "4.37.1",
        "torch_dtype": "float32",
        "frame_shape": [size.image_size // size.patch] * 2,
        "num_frames": size.num_frames,
        "pooling_method": "avg",
        "pooling_shape": size.pooling,
        "use_pooling": True,
        "projector_hidden_act": "gelu",
        "image_token_index": image_token_id,
        "ignore_index": -100,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "vocab_size": VOCAB_PADDED,
        "gradient_checkpointing": False,
        "causal_conv_ks": [3, 3, 3],
        "causal_conv_pad_mod": "constant",
        "dilation": 1,
        "stride": 1,
        "highres": None,
        "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
        "register": False,
        "slide_pooling_shape": [16, 2, 2],
        "use_cc": False,
        "use_image_newline_parameter": True,
        "use_yi": False,
        "text_config": {
            k: text[k]
            for k in (
                "model_type",
                "hidden_size",
                "intermediate_size",
                "num_hidden_layers",
                "num_attention_heads",
                "num_key_value_heads",
                "vocab_size",
                "max_position_embeddings",
                "pad_token_id",
                "rms_norm_eps",
            )
        },
        "vision_config": {
            k: vision[k]
            for k in (
                "model_type",
                "hidden_size",
                "intermediate_size",
                "num_hidden_layers",
                "num_attention_heads",
                "image_size",
                "patch_size",
                "projection_dim",
            )
        },
    }


def released_tensors(seed: int = 0, size: Geometry = TINY) -> dict[str, torch.Tensor]:
    """Random weights under the released names, q_proj/v_proj split into base_layer + LoRA A/B."""
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(_llava_config(0, size))
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in model.state_dict().items():
        released = _released_name(name)
        # Larger than the init scale so every layer, and the LoRA, visibly moves the logits.
        value = torch.randn(tensor.shape) * (0.2 if tensor.ndim > 1 else 0.05) + (1.0 if "norm" in name else 0.0)
        if released.endswith(("q_proj.weight", "v_proj.weight")) and "language_model" in released:
            stem = released[: -len(".weight")]
            tensors[stem + ".base_layer.weight"] = value
            tensors[stem + ".lora_A.default.weight"] = torch.randn(LORA_RANK, value.shape[1]) * 0.5
            tensors[stem + ".lora_B.default.weight"] = torch.randn(value.shape[0], LORA_RANK) * 0.5
        else:
            tensors[released] = value
    return tensors


def write_release(
    folder: Path,
    *,
    chatml: bool = False,
    drop: str | None = None,
    extra: str | None = None,
    config_image_token_id: int | None = None,
    shards: int = 2,
    size: Geometry = TINY,
) -> Path:
    """Write a tiny release to `folder`: sharded safetensors + index, config.json, tokenizer files."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(chatml)
    tokenizer.save_pretrained(str(folder))
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    config = released_config(config_image_token_id if config_image_token_id is not None else image_id, size)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "added_tokens.json").write_text(json.dumps({"<image>": image_id}))
    tensors = released_tensors(size=size)
    if drop is not None:
        del tensors[drop]
    if extra is not None:
        tensors[extra] = torch.zeros(2)
    names = list(tensors)
    weight_map = {}
    for number in range(shards):
        part = names[number::shards]
        file = f"model-{number + 1:05d}-of-{shards:05d}.safetensors"
        save_file({n: tensors[n].contiguous() for n in part}, str(folder / file), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, file))
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return folder
