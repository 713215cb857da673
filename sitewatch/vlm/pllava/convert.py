"""One-off conversion of a released PLLaVA repo into a merged, standard safetensors folder."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file

from sitewatch.errors import ModelLoadError
from sitewatch.vlm.pllava.config import converted_dict, read_config
from sitewatch.vlm.pllava.loader import expected_shapes
from sitewatch.vlm.pllava.weights import (
    DEFAULT_LORA_ALPHA,
    INDEX_NAME,
    SINGLE_NAME,
    check_keys,
    convert_state_dict,
    locate,
    weight_files,
)

logger = logging.getLogger(__name__)

SHARD_BYTES = 5 * 1024**3
# Weights and config are rewritten; other top-level files (tokenizer, generation config) are copied.
_NOT_COPIED = {"config.json", INDEX_NAME, SINGLE_NAME}


@dataclass(frozen=True)
class ConversionResult:
    """What `convert` wrote."""

    destination: Path
    tensors: int
    shards: int
    lora_alpha: float
    copied: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"wrote {self.tensors} tensors in {self.shards} shard(s) to {self.destination} "
            f"(LoRA merged with alpha {self.lora_alpha}; copied {', '.join(self.copied) or 'nothing'})"
        )


def _shards(tensors: dict[str, torch.Tensor], limit: int) -> list[dict[str, torch.Tensor]]:
    """Split tensors into groups of at most `limit` bytes, keeping key order."""
    groups: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if groups[-1] and size + nbytes > limit:
            groups.append({})
            size = 0
        groups[-1][name] = tensor.contiguous()
        size += nbytes
    return groups


def _copy_side_files(src: Path, dst: Path) -> tuple[str, ...]:
    """Copy tokenizer and other small files, leaving out the released weights and config."""
    copied = []
    for path in sorted(src.iterdir()):
        if path.is_file() and path.name not in _NOT_COPIED and ".safetensors" not in path.name:
            shutil.copy2(path, dst / path.name)
            copied.append(path.name)
    return tuple(copied)


def convert(
    src: str | Path, dst: str | Path, lora_alpha: float = DEFAULT_LORA_ALPHA, dtype: str | None = None
) -> ConversionResult:
    """Merge the LoRA of a released PLLaVA folder (or hub id) and write a standard folder to `dst`."""
    source = locate(str(src))
    destination = Path(dst).expanduser()
    if destination.resolve() == source.resolve():
        raise ModelLoadError(f"{destination}: write the converted model to a different folder than the source")
    if destination.exists() and any(destination.iterdir()):
        raise ModelLoadError(f"{destination} exists and is not empty; choose a new folder")
    config = read_config(source)
    if config.lora_alpha_applied is not None:
        raise ModelLoadError(f"{source} is already converted (LoRA merged with alpha {config.lora_alpha_applied})")
    target_dtype = getattr(torch, dtype) if dtype else None
    tensors, origin = convert_state_dict(weight_files(source), lora_alpha, target_dtype)
    check_keys(tensors, expected_shapes(config), origin, source)
    destination.mkdir(parents=True, exist_ok=True)
    groups = _shards(tensors, SHARD_BYTES)
    metadata = {"format": "pt"}
    if len(groups) == 1:
        save_file(groups[0], str(destination / SINGLE_NAME), metadata=metadata)
    else:
        weight_map = {}
        for number, group in enumerate(groups, start=1):
            name = f"model-{number:05d}-of-{len(groups):05d}.safetensors"
            save_file(group, str(destination / name), metadata=metadata)
            weight_map.update(dict.fromkeys(group, name))
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        (destination / INDEX_NAME).write_text(json.dumps(index, indent=2))
    copied = _copy_side_files(source, destination)
    config.lora_alpha_applied = lora_alpha
    data = converted_dict(config)
    if target_dtype is not None:
        data["dtype"] = dtype
    (destination / "config.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    result = ConversionResult(destination, len(tensors), len(groups), lora_alpha, copied)
    logger.info("%s", result)
    return result
