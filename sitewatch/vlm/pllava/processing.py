"""Frames to CLIP pixels (short-side resize, centre crop, CLIP mean/std) and `<image>` expansion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from sitewatch.errors import BackendError
from sitewatch.video.sample import pllava_indices

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def resize_crop(frame: np.ndarray, size: int) -> np.ndarray:
    """Resize so the short side is `size` (bicubic, like CLIPImageProcessor), then centre-crop size x size."""
    height, width = frame.shape[:2]
    short, long = (height, width) if height <= width else (width, height)
    long_out = int(size * long / short)
    new_w, new_h = (long_out, size) if height <= width else (size, long_out)
    image = Image.fromarray(frame).convert("RGB")
    if (new_w, new_h) != (width, height):
        image = image.resize((new_w, new_h), resample=Image.Resampling.BICUBIC)
    top = int((new_h - size) / 2)
    left = int((new_w - size) / 2)
    return np.asarray(image.crop((left, top, left + size, top + size)))


def preprocess_frames(frames: np.ndarray | Sequence[np.ndarray], size: int) -> torch.Tensor:
    """RGB uint8 frames (T, H, W, 3) -> float32 pixel_values (T, 3, size, size), CLIP-normalised."""
    crops = np.stack([resize_crop(np.asarray(frame, dtype=np.uint8), size) for frame in frames])
    pixels = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (pixels - mean) / std


def choose_frames(frames: np.ndarray, num_frames: int, is_image: bool) -> np.ndarray:
    """Frames to encode: one for an image (the model tiles it), all of a short clip (padded), else sampled."""
    if len(frames) == 0:
        raise BackendError("the clip has no frames")
    if is_image or len(frames) == 1:
        return frames[:1]
    if len(frames) <= num_frames:
        return frames
    return frames[pllava_indices(len(frames), num_frames)]


def expand_image_token(input_ids: list[int], image_token_id: int, count: int) -> list[int]:
    """Replace the single `<image>` id by `count` copies, the number of pooled visual tokens."""
    found = input_ids.count(image_token_id)
    if found != 1:
        raise BackendError(f"the prompt must hold exactly one <image> token (id {image_token_id}), found {found}")
    at = input_ids.index(image_token_id)
    return input_ids[:at] + [image_token_id] * count + input_ids[at + 1 :]
