"""Build a ready PLLaVA model and tokenizer from a folder: device, dtype, 4-bit, strict weight checks."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from sitewatch.errors import ModelLoadError
from sitewatch.settings import Settings
from sitewatch.vlm.generation import loading_kwargs, placement
from sitewatch.vlm.pllava.config import PllavaConfig, read_config
from sitewatch.vlm.pllava.modeling import PllavaForConditionalGeneration
from sitewatch.vlm.pllava.prompts import settle_image_token_id
from sitewatch.vlm.pllava.weights import check_keys, convert_state_dict, weight_files

logger = logging.getLogger(__name__)

# Kept in full precision under 4-bit: small, and quantizing them costs quality for no memory.
_SKIP_QUANT = ["vision_tower", "multi_modal_projector", "lm_head"]


def expected_shapes(config: PllavaConfig) -> dict[str, torch.Size]:
    """Every persistent weight the model holds, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        model = PllavaForConditionalGeneration(config)
    return {name: tensor.shape for name, tensor in model.state_dict().items()}


def load_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """The tokenizer saved beside the weights."""
    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"no usable tokenizer in {folder}: {exc}") from exc


def load_model(
    folder: Path, settings: Settings, lora_alpha: float, attn_implementation: str = "sdpa"
) -> tuple[PllavaForConditionalGeneration, PreTrainedTokenizerBase]:
    """Load a released (PEFT layout, LoRA merged on the fly) or converted PLLaVA folder."""
    config = read_config(folder)
    tokenizer = load_tokenizer(folder)
    config.image_token_id = settle_image_token_id(tokenizer, config.image_token_id)
    where = placement(settings)
    kwargs = {**loading_kwargs(settings, where, keep_full=_SKIP_QUANT), "attn_implementation": attn_implementation}
    files = weight_files(folder)
    expected = expected_shapes(config)
    if config.lora_alpha_applied is None:
        logger.info("merging the LoRA of %s at load time; `convert` it once for faster starts", folder)
        # In the run dtype, so a float32 run keeps the float32 merge instead of rounding it to bf16.
        tensors, origin = convert_state_dict(files, lora_alpha, where.dtype)
        check_keys(tensors, expected, origin, folder)
        config.lora_alpha_applied = lora_alpha
        model, info = PllavaForConditionalGeneration.from_pretrained(
            None, config=config, state_dict=tensors, output_loading_info=True, **kwargs
        )
    else:
        if lora_alpha != config.lora_alpha_applied:
            logger.warning(
                "%s was converted with lora_alpha %s; %s is ignored",
                folder,
                config.lora_alpha_applied,
                lora_alpha,
            )
        with_files = {name: files[name] for name in files if name in expected}
        unused = sorted(set(files) - set(expected))
        if unused:
            raise ModelLoadError(
                f"weight(s) in {folder} the model does not use: "
                + ", ".join(f"{files[k].name}: {k}" for k in unused[:10])
            )
        missing = sorted(set(expected) - set(with_files))
        if missing:
            raise ModelLoadError(f"{len(missing)} weight(s) missing from {folder}: " + ", ".join(missing[:10]))
        model, info = PllavaForConditionalGeneration.from_pretrained(
            str(folder), config=config, output_loading_info=True, **kwargs
        )
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        raise ModelLoadError(f"transformers reported weight problems loading {folder}: {problems}")
    if where.device_map is None:
        model.to(where.device)
    model.eval()
    return model, tokenizer
