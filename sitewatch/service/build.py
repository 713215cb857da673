"""Everything an analysis runs with, built from its request: the detector at its rate, the model, the translator."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.request import AnalysisRequest
from sitewatch.settings import Settings

if TYPE_CHECKING:
    from sitewatch.detect.base import Detector
    from sitewatch.translate.base import Translator
    from sitewatch.vlm.base import VideoLM


_lock = threading.Lock()
_models: dict[tuple[str, str], VideoLM] = {}
# Settings that change how a backend is built: two sessions share a loaded model only when these agree.
_MODEL_FIELDS_EXACT = frozenset({"device", "dtype", "load_in_4bit", "timeout_s", "retries", "backoff_s"})
_MODEL_FIELD_PREFIXES = ("hf_", "openai_")


def _model_key(name: str, settings: Settings) -> tuple[str, str]:
    fields = {f for f in Settings.model_fields if f in _MODEL_FIELDS_EXACT or f.startswith(_MODEL_FIELD_PREFIXES)}
    return name, settings.model_dump_json(include=fields)


def get_model(name: str | None, settings: Settings) -> VideoLM | None:
    """The video-language backend `name`, loaded once per process and shared by every session."""
    if not name:
        return None
    from sitewatch.vlm.registry import load_backend

    key = _model_key(name, settings)
    with _lock:
        if key not in _models:
            _models[key] = load_backend(name, settings)
        return _models[key]


def get_translator(request: AnalysisRequest, settings: Settings, model: VideoLM | None) -> Translator | None:
    """The translator the request names for `model`; None without a model or with translation off."""
    from sitewatch.translate.registry import load_translator

    if model is None or request.translator in (None, "", "none"):
        return None
    return load_translator(request.translator, settings, vlm=model)


@dataclass(frozen=True)
class Tools:
    """A request's detector, and its model and translator (None when it names none)."""

    detector: Detector
    model: VideoLM | None
    translator: Translator | None


def detector_for(request: AnalysisRequest, threads: int | None = None, settings: Settings | None = None) -> Detector:
    """A fresh detector the request names, at the request's rate (the detector's own when unset); with the
    operator's `settings`, a learned one decides with the model trained for the request's site or camera, if any."""
    from sitewatch.detect.registry import get_detector, learns

    options: dict[str, Any] = {"fps": request.fps} if request.fps else {}
    if threads:
        # Several detectors share the cores: each gets its share instead of all of them fighting over them.
        options["threads"] = threads
    if settings is not None and learns(request.detector):
        from sitewatch.detect.site_models import site_models

        # Looked in, never created: a page kept out of the history leaves no data folder behind.
        options["models"] = site_models(models_dir(settings)).source(request.site, request.camera)
    return get_detector(request.detector, **options)


def models_dir(settings: Settings) -> Path:
    """Where the operator's site and camera models are (`train --from-history` writes them there)."""
    from sitewatch.detect.site_models import MODELS_DIR

    return settings.data_dir.expanduser() / MODELS_DIR


def pinned(request: AnalysisRequest, settings: Settings) -> AnalysisRequest:
    """`request` naming the fitted model its detector decides with now (its camera's or site's own, else the
    shipped one), so that its key changes when the operator trains a new one."""
    from sitewatch.detect.registry import learns

    if not learns(request.detector):
        return request
    from sitewatch.detect.site_models import site_models

    version = site_models(models_dir(settings)).choose(request.site, request.camera).version
    label = f"{version.name}@{version.trained_at.isoformat()}" if version.trained_at else version.name
    return request.model_copy(update={"decided_by": label})


def build(request: AnalysisRequest, settings: Settings, threads: int | None = None) -> Tools:
    """The detector, model and translator of `request`; models load once per process and are shared."""
    model = get_model(request.model, settings)
    return Tools(detector_for(request, threads, settings), model, get_translator(request, settings, model))
