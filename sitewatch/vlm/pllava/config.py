"""Read PLLaVA configs: the released `model_type: "llava"` files and the converted `"pllava"` ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import AutoConfig, LlavaConfig

from sitewatch.errors import ModelLoadError

# Keys of the released config.json that no released code path reads; kept out of the converted config.
DEAD_KEYS = (
    "architectures",
    "causal_conv_ks",
    "causal_conv_pad_mod",
    "dilation",
    "stride",
    "highres",
    "image_grid_pinpoints",
    "register",
    "slide_pooling_shape",
    "use_cc",
    "use_image_newline_parameter",
    "use_yi",
    "pooling_method",
    "gradient_checkpointing",
    "_name_or_path",
)


class PllavaConfig(LlavaConfig):
    """LLaVA config plus the pooling geometry: frames per video, pooled (T, H, W) grid, patch grid."""

    model_type = "pllava"

    def __init__(
        self,
        pooling_shape: tuple[int, int, int] | list[int] = (16, 12, 12),
        num_frames: int = 16,
        frame_shape: tuple[int, int] | list[int] | None = None,
        use_pooling: bool = True,
        lora_alpha_applied: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.pooling_shape = [int(x) for x in pooling_shape]
        self.num_frames = int(num_frames)
        self.frame_shape = [int(x) for x in frame_shape] if frame_shape is not None else None
        self.use_pooling = use_pooling
        self.lora_alpha_applied = lora_alpha_applied
        super().__init__(**kwargs)
        if self.frame_shape is None:
            side = self.vision_config.image_size // self.vision_config.patch_size
            self.frame_shape = [side, side]
        # LlavaConfig's field would otherwise claim stock LLaVA's 576 tokens per image.
        self.image_seq_length = self.tokens_per_video

    @property
    def tokens_per_video(self) -> int:
        """Visual tokens one video (or image) turns into: T' * H' * W'."""
        t, h, w = self.pooling_shape
        return t * h * w


AutoConfig.register("pllava", PllavaConfig, exist_ok=True)


def _check(config: PllavaConfig, path: Path) -> None:
    """Refuse geometries the pooling projector cannot honour, naming the file."""
    side = config.vision_config.image_size // config.vision_config.patch_size
    if config.frame_shape != [side, side]:
        raise ModelLoadError(
            f"{path}: frame_shape {config.frame_shape} does not match the vision tower's "
            f"{side}x{side} patch grid (image_size / patch_size)"
        )
    if len(config.pooling_shape) != 3 or min(config.pooling_shape) < 1:
        raise ModelLoadError(f"{path}: pooling_shape must be three positive sizes, got {config.pooling_shape}")
    if not config.use_pooling:
        raise ModelLoadError(f"{path}: use_pooling=false was never implemented by PLLaVA")
    if config.vision_feature_select_strategy != "default":
        raise ModelLoadError(
            f"{path}: vision_feature_select_strategy "
            f"'{config.vision_feature_select_strategy}' is not supported (PLLaVA only uses 'default')"
        )


def read_config(folder: Path) -> PllavaConfig:
    """Parse a PLLaVA config.json explicitly; a plain LLaVA config (no pooling keys) is refused."""
    path = folder / "config.json"
    if not path.is_file():
        raise ModelLoadError(f"{folder} has no config.json: not a PLLaVA model folder")
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} could not be read as JSON: {exc}") from exc
    model_type = raw.get("model_type")
    if model_type != "pllava" and "pooling_shape" not in raw:
        # AutoModel would build stock LLaVA here: 576 tokens per frame, no pooling, wrong answers.
        raise ModelLoadError(
            f"{path} has model_type '{model_type}' and no pooling_shape: this is not a PLLaVA checkpoint"
        )
    kwargs = {k: v for k, v in raw.items() if k not in DEAD_KEYS and k not in ("model_type", "transformers_version")}
    try:
        config = PllavaConfig(**kwargs)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{path}: invalid PLLaVA config: {exc}") from exc
    _check(config, path)
    return config


def converted_dict(config: PllavaConfig) -> dict[str, Any]:
    """The config.json content of a converted folder (model_type "pllava", no dead keys)."""
    data = config.to_dict()
    for key in DEAD_KEYS:
        data.pop(key, None)
    data["model_type"] = "pllava"
    data["architectures"] = ["PllavaForConditionalGeneration"]
    return data
