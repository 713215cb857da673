"""PLLaVA as a thin subclass of transformers' LLaVA: per-frame projector, then 3-D adaptive avg pooling."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoModel, LlavaForConditionalGeneration, LlavaModel
from transformers.modeling_outputs import BaseModelOutputWithPooling
from transformers.models.llava.modeling_llava import LlavaMultiModalProjector, LlavaPreTrainedModel

from sitewatch.vlm.pllava.config import PllavaConfig


def pad_frame_indices(have: int, want: int) -> list[int]:
    """Frame order stretching `have` frames to `want` by repeating each in turn (1 frame -> tiled)."""
    return [(i * have) // want for i in range(want)]


class PllavaMultiModalProjector(LlavaMultiModalProjector):
    """linear_1 -> act -> linear_2 on every patch token of every frame, then pool to (T', H', W')."""

    def __init__(self, config: PllavaConfig) -> None:
        super().__init__(config)
        self.num_frames = config.num_frames
        self.frame_shape = tuple(config.frame_shape)
        self.pool = nn.AdaptiveAvgPool3d(tuple(config.pooling_shape))

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        """(videos, frames, patches, vision_dim) -> (videos, T'*H'*W', text_dim) in (t, h, w) order."""
        videos, frames, patches, _ = image_features.shape
        height, width = self.frame_shape
        if patches != height * width:
            raise ValueError(f"expected {height}x{width}={height * width} patch tokens per frame, got {patches}")
        hidden = super().forward(image_features)
        if frames < self.num_frames:
            # The MLP is per token, so repeating its output equals repeating the input frames, for less work.
            hidden = hidden[:, pad_frame_indices(frames, self.num_frames)]
        elif frames != self.num_frames:
            raise ValueError(f"a video must have at most {self.num_frames} frames here, got {frames}")
        grid = hidden.view(videos, self.num_frames, height, width, -1).permute(0, 4, 1, 2, 3)
        pooled = self.pool(grid)
        return pooled.flatten(2).transpose(1, 2)


class PllavaModel(LlavaModel):
    """LLaVA body whose image features are pooled video tokens, one (T'*H'*W', hidden) tensor per video."""

    config_class = PllavaConfig
    config: PllavaConfig

    def __init__(self, config: PllavaConfig) -> None:
        LlavaPreTrainedModel.__init__(self, config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = PllavaMultiModalProjector(config)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        vision_feature_layer: int | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPooling:
        """Encode frames (videos * num_frames, or fewer than num_frames for one short clip or an image)."""
        layer = self.config.vision_feature_layer if vision_feature_layer is None else vision_feature_layer
        strategy = vision_feature_select_strategy or self.config.vision_feature_select_strategy
        if not isinstance(layer, int) or strategy != "default":
            raise ValueError("PLLaVA uses a single vision feature layer with the 'default' (drop CLS) strategy")
        frames = pixel_values.shape[0]
        per_video = self.config.num_frames
        if frames % per_video == 0:
            videos = frames // per_video
        elif frames < per_video:
            videos, per_video = 1, frames
        else:
            raise ValueError(f"{frames} frames is neither fewer than nor a multiple of {per_video}")
        dtype = self.vision_tower.embeddings.patch_embedding.weight.dtype
        outputs = self.vision_tower(pixel_values.to(dtype), output_hidden_states=True, return_dict=True)
        selected = outputs.hidden_states[layer][:, 1:]
        selected = selected.reshape(videos, per_video, *selected.shape[1:])
        pooled = self.multi_modal_projector(selected)
        outputs.pooler_output = list(pooled)
        return outputs


class PllavaForConditionalGeneration(LlavaForConditionalGeneration):
    """LLaVA generation head on `PllavaModel`; placeholder merge, KV cache and generate() are inherited."""

    config_class = PllavaConfig
    config: PllavaConfig

    def __init__(self, config: PllavaConfig) -> None:
        LlavaPreTrainedModel.__init__(self, config)
        self.model = PllavaModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def embed_with_video(self, input_ids: torch.Tensor, video_features: torch.Tensor) -> torch.Tensor:
        """Token embeddings with the expanded image placeholders replaced by pre-computed pooled features."""
        embeddings = self.get_input_embeddings()(input_ids)
        features = video_features.to(embeddings.device, embeddings.dtype).reshape(-1, embeddings.shape[-1])
        mask = self.model.get_placeholder_mask(input_ids, inputs_embeds=embeddings, image_features=features)
        return embeddings.masked_scatter(mask, features)
