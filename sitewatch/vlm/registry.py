"""Choose a video-language backend by name: `pllava-7b`, `hf:<id or folder>`, `openai:<model>@<url>`."""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.errors import ModelLoadError

if TYPE_CHECKING:
    from sitewatch.settings import Settings
    from sitewatch.vlm.base import VideoLM


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend's loader lives and what it needs, for `sitewatch models`."""

    loader: str
    extra: str
    needs: str


BACKENDS: dict[str, BackendSpec] = {
    "pllava": BackendSpec(
        "sitewatch.vlm.pllava.backend:load",
        "vlm",
        "torch + transformers",
    ),
    "hf": BackendSpec(
        "sitewatch.vlm.hf:load",
        "vlm",
        "torch + transformers; an image-text-to-text model with video input",
    ),
    "openai": BackendSpec(
        "sitewatch.vlm.openai:load",
        "openai",
        "an OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp, OpenAI)",
    ),
}

# The hardware each alias needs (bfloat16 weights and working memory).
HARDWARE: dict[str, str] = {
    "pllava-7b": "a GPU with 16 GB",
    "pllava-13b": "a GPU with 30 GB",
    "pllava-34b": "a GPU with 72 GB",
    "qwen2.5-vl-3b": "a GPU with about 8 GB",
    "qwen2.5-vl-7b": "a GPU with about 17 GB",
    "qwen3-vl-8b": "a GPU with about 18 GB",
    "llava-onevision-7b": "a GPU with about 16 GB",
    "llava-next-video-7b": "a GPU with about 16 GB",
    "smolvlm2": "a GPU with about 6 GB",
    "smolvlm2-500m": "a GPU with about 2 GB, or the CPU (slow)",
}
# What a backend form needs from the hardware itself, when it is not one size.
_FORM_HARDWARE: dict[str, str] = {
    "pllava": "a GPU by model size (below); about a third with SITEWATCH_LOAD_IN_4BIT=1 (extra quant)",
    "hf": "a GPU by model size (below); about a third with SITEWATCH_LOAD_IN_4BIT=1 (extra quant)",
    "openai": "none here: the server runs the model",
}

ALIASES: dict[str, str] = {
    "pllava-7b": "pllava:ermu2001/pllava-7b",
    "pllava-13b": "pllava:ermu2001/pllava-13b",
    "pllava-34b": "pllava:ermu2001/pllava-34b",
    "qwen2.5-vl-3b": "hf:Qwen/Qwen2.5-VL-3B-Instruct",
    "qwen2.5-vl-7b": "hf:Qwen/Qwen2.5-VL-7B-Instruct",
    "qwen3-vl-8b": "hf:Qwen/Qwen3-VL-8B-Instruct",
    "llava-onevision-7b": "hf:llava-hf/llava-onevision-qwen2-7b-ov-hf",
    "llava-next-video-7b": "hf:llava-hf/LLaVA-NeXT-Video-7B-hf",
    "smolvlm2": "hf:HuggingFaceTB/SmolVLM2-2.2B-Instruct",
    "smolvlm2-500m": "hf:HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
}


def folder_config(folder: Path) -> dict[str, object]:
    """A model folder's config.json as a dict, or a ModelLoadError saying what is wrong with it."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(f"{folder} is a folder but has no config.json: not a model folder")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{config_path} is not valid JSON ({exc}): the model folder is damaged") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_path} is not a JSON object: the model folder is damaged")
    return config


def _folder_backend(folder: Path) -> str:
    """Tell a PLLaVA folder (its config has pooling keys) from any other transformers folder."""
    config = folder_config(folder)
    return "pllava" if "pooling_shape" in config or config.get("model_type") == "pllava" else "hf"


def resolve(name: str) -> tuple[str, str]:
    """Split a backend name into (backend, target), expanding aliases and local folders."""
    name = ALIASES.get(name, name)
    prefix, sep, target = name.partition(":")
    if sep and prefix in BACKENDS:
        return prefix, target
    folder = Path(name).expanduser()
    if folder.is_dir():
        return _folder_backend(folder), str(folder)
    known = ", ".join(sorted([*ALIASES, *(f"{b}:..." for b in BACKENDS)]))
    raise ModelLoadError(f"unknown model backend '{name}' (and no such folder); known: {known}")


def load_backend(name: str, settings: Settings) -> VideoLM:
    """Build the backend `name` with `settings` (device, dtype, 4-bit, keys)."""
    backend, target = resolve(name)
    if backend != "openai" and Path(target).expanduser().is_dir():
        folder_config(Path(target).expanduser())
    module_name, function = BACKENDS[backend].loader.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, function)(target, settings)


@dataclass(frozen=True)
class BackendInfo:
    """One line of `sitewatch models`: a name to pass to --model and what it takes to run it."""

    name: str
    target: str
    extra: str
    needs: str
    installed: bool
    hardware: str = ""


# The modules whose presence means an extra is installed (looked up, not imported: stays fast).
_EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "vlm": ("torch", "transformers"),
    "openai": ("openai", "httpx"),
}

_TARGET_FORMS: dict[str, str] = {
    "pllava": "pllava:<hub id or folder>",
    "hf": "hf:<hub id or folder>",
    "openai": "openai:<model>@<base url>",
}


def _extra_installed(extra: str) -> bool:
    """Whether every module of `extra` can be found, without importing it."""
    return all(importlib.util.find_spec(module) is not None for module in _EXTRA_MODULES.get(extra, ()))


def describe_backends() -> list[BackendInfo]:
    """Every backend form, each followed by its aliases: extra, software needs, hardware, extra installed."""
    rows = []
    for backend, spec in BACKENDS.items():
        target = _TARGET_FORMS.get(backend, f"{backend}:<target>")
        installed = _extra_installed(spec.extra)
        rows.append(BackendInfo(backend, target, spec.extra, spec.needs, installed, _FORM_HARDWARE.get(backend, "")))
        for alias, full in ALIASES.items():
            if full.partition(":")[0] == backend:
                rows.append(BackendInfo(alias, full, spec.extra, spec.needs, installed, HARDWARE.get(alias, "")))
    return rows
