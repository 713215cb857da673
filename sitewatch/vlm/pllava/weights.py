"""Find PLLaVA weights and turn the released layout (PEFT names, unmerged LoRA) into transformers 5.x keys."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open

from sitewatch.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_LORA_ALPHA = 4.0
INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"

_LM_PREFIXES = ("language_model.base_model.model.", "language_model.")
_LORA_A = ".lora_A.default.weight"
_LORA_B = ".lora_B.default.weight"
_BASE = ".base_layer.weight"
# Keys some checkpoints carry that no PLLaVA code path reads.
_IGNORED = ("image_newline",)


def locate(target: str) -> Path:
    """A local model folder for `target` (a folder, or a hub id fetched with huggingface_hub)."""
    path = Path(target).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadError(f"{path} is a file; a PLLaVA model is a folder with config.json and safetensors")
    looks_like_id = target.count("/") == 1 and not target.startswith((".", "/", "~"))
    if not looks_like_id:
        raise ModelLoadError(f"no PLLaVA model folder at {path} (looked for a folder with config.json)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(target, allow_patterns=["*.json", "*.safetensors", "tokenizer.model"]))
    except Exception as exc:
        raise ModelLoadError(
            f"could not get '{target}' from the Hugging Face hub ({type(exc).__name__}: {exc}); "
            f"no local folder '{path}' either. Download it where the hub is reachable and pass the folder"
        ) from exc


def weight_files(folder: Path) -> dict[str, Path]:
    """Map every tensor name to the safetensors file holding it (sharded index or a single file)."""
    index = folder / INDEX_NAME
    if index.is_file():
        try:
            weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise ModelLoadError(f"{index} is not a valid safetensors index: {exc}") from exc
        files = {name: folder / file for name, file in weight_map.items()}
        for file in sorted(set(files.values())):
            if not file.is_file():
                raise ModelLoadError(f"{index} lists {file.name}, which is missing from {folder}")
        return files
    single = folder / SINGLE_NAME
    if single.is_file():
        with safe_open(str(single), framework="pt") as handle:
            return dict.fromkeys(handle.keys(), single)
    raise ModelLoadError(f"no weights in {folder}: looked for {INDEX_NAME} and {SINGLE_NAME}")


@dataclass
class _Lora:
    """The three tensors of one LoRA-wrapped linear layer, with the files they came from."""

    base: torch.Tensor | None = None
    a: torch.Tensor | None = None
    b: torch.Tensor | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _rename(name: str) -> str | None:
    """The 5.x key for a released non-LoRA key, or None when the name is not one PLLaVA uses."""
    if name.startswith("vision_tower.vision_model."):
        return "model.vision_tower." + name[len("vision_tower.vision_model.") :]
    if name.startswith("multi_modal_projector."):
        return "model." + name
    for prefix in _LM_PREFIXES:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if rest.startswith("lm_head."):
                return rest
            if rest.startswith("model."):
                return "model.language_model." + rest[len("model.") :]
    return None


def released_name(name: str) -> str:
    """The key a released checkpoint stores for a 5.x weight name (q/v projections as their base layer)."""
    if name.startswith("model.vision_tower."):
        return "vision_tower.vision_model." + name[len("model.vision_tower.") :]
    if name.startswith("model.multi_modal_projector."):
        return name[len("model.") :]
    if name.startswith("model.language_model."):
        rest = "model." + name[len("model.language_model.") :]
        if rest.endswith(("q_proj.weight", "v_proj.weight")):
            rest = rest[: -len(".weight")] + _BASE
        return _LM_PREFIXES[0] + rest
    return _LM_PREFIXES[0] + name


def merge_lora(base: torch.Tensor, a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """W = W_base + alpha / r * B @ A in float32, r read from A's shape."""
    rank = a.shape[0]
    return base.float() + (alpha / rank) * (b.float() @ a.float())


def convert_state_dict(
    files: dict[str, Path], lora_alpha: float, dtype: torch.dtype | None
) -> tuple[dict[str, torch.Tensor], dict[str, Path]]:
    """Read released tensors, merge each LoRA into its base layer, rename; tensors and their files."""
    tensors: dict[str, torch.Tensor] = {}
    origin: dict[str, Path] = {}
    loras: dict[str, _Lora] = {}
    unused: list[str] = []
    by_file: dict[Path, list[str]] = {}
    for name, file in files.items():
        by_file.setdefault(file, []).append(name)
    for file, names in sorted(by_file.items()):
        try:
            handle = safe_open(str(file), framework="pt")
        except Exception as exc:
            raise ModelLoadError(f"cannot read {file}: {exc}") from exc
        with handle:
            present = set(handle.keys())
            for name in names:
                if name not in present:
                    raise ModelLoadError(f"{file} does not hold '{name}', which the index places there")
                for suffix, part in ((_BASE, "base"), (_LORA_A, "a"), (_LORA_B, "b")):
                    if name.endswith(suffix):
                        module = name[: -len(suffix)]
                        entry = loras.setdefault(module, _Lora())
                        setattr(entry, part, handle.get_tensor(name))
                        entry.sources[part] = f"{file.name}:{name}"
                        origin.setdefault(module, file)
                        break
                else:
                    new_name = _rename(name)
                    if new_name is None:
                        if name.endswith(_IGNORED):
                            logger.info("skipping %s from %s: PLLaVA never uses it", name, file.name)
                        else:
                            unused.append(f"{file.name}: {name}")
                        continue
                    tensor = handle.get_tensor(name)
                    tensors[new_name] = tensor.to(dtype) if dtype is not None else tensor
                    origin[new_name] = file
    if unused:
        raise ModelLoadError(f"{len(unused)} weight(s) PLLaVA does not use: " + "; ".join(unused[:10]))
    for module, entry in loras.items():
        if entry.base is None or (entry.a is None) != (entry.b is None):
            have = ", ".join(entry.sources.values())
            raise ModelLoadError(f"incomplete LoRA layer '{module}': found only {have}")
        new_name = _rename(module + ".weight")
        if new_name is None:
            raise ModelLoadError(f"{origin[module].name}: LoRA layer '{module}' is not part of PLLaVA")
        if entry.a is None or entry.b is None:
            weight = entry.base
        else:
            weight = merge_lora(entry.base, entry.a, entry.b, lora_alpha)
        target = dtype if dtype is not None else entry.base.dtype
        tensors[new_name] = weight.to(target)
        origin[new_name] = origin[module]
    logger.info("merged %d LoRA layers with alpha %s", sum(e.a is not None for e in loras.values()), lora_alpha)
    return tensors, origin


def check_keys(
    tensors: dict[str, torch.Tensor], expected: dict[str, torch.Size], origin: dict[str, Path], folder: Path
) -> None:
    """Fail when a weight is missing, unused or of the wrong shape; never leave layers newly initialised."""
    missing = sorted(set(expected) - set(tensors))
    if missing:
        searched = ", ".join(sorted({path.name for path in origin.values()}))
        raise ModelLoadError(
            f"{len(missing)} weight(s) missing from {folder} (searched {searched}): "
            + ", ".join(f"'{released_name(k)}' (for {k})" for k in missing[:10])
            + (" ..." if len(missing) > 10 else "")
        )
    unused = sorted(set(tensors) - set(expected))
    if unused:
        raise ModelLoadError(
            f"{len(unused)} weight(s) in {folder} the model does not use: "
            + ", ".join(f"{origin[k].name}: {k}" for k in unused[:10])
        )
    for name, shape in expected.items():
        if tensors[name].shape != shape:
            raise ModelLoadError(
                f"{origin[name].name}: '{name}' has shape {tuple(tensors[name].shape)}, "
                f"the config expects {tuple(shape)}"
            )
