"""What one analysis is asked for, whichever surface asked: the value that decides how it runs and when it is reused.

A surface (CLI, page, API, batch, live camera) builds one from the operator's settings (the defaults) and the
choices its user made; `key()` then names the result everywhere: the same bytes with an equal request are
analysed once, and a changed detector rate, model or language is a new analysis.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sitewatch import __version__
from sitewatch.settings import Settings, explain, known_translator
from sitewatch.text.languages import DEFAULT_LANG, Lang

# A free label an operator files analyses under (a site, a camera).
Tag = Annotated[str | None, Field(min_length=1, max_length=100, pattern=r"^[\w .:/@-]+$")]
# How the request's fields are called where a user sets them (the CLI's flags), for error messages.
FLAG_NAMES = {"fps": "--fps", "frames": "--frames", "lang": "--lang", "model": "--model", "translator": "--translator"}


class AnalysisRequest(BaseModel):
    """Detector and its rate, model, translator, frames, language, site and camera of one analysis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    detector: str = Field("pose", description="detector backend by name")
    fps: float | None = Field(None, gt=0, le=60, allow_inf_nan=False, description="detector rate (its own if unset)")
    model: str | None = Field(None, description="video-language backend (one the operator configured)")
    translator: str | None = Field(None, description="translator for the model (none without a model)")
    frames: int = Field(16, ge=1, le=256, description="frames given to the video-language model")
    lang: Lang = DEFAULT_LANG
    site: Tag = None
    camera: Tag = None
    version: str = Field(__version__, description="the sitewatch that analysed it")
    decided_by: str | None = Field(
        None, max_length=200,
        description="the fitted fall model the detector decides with (set by the service, never by a user): a "
        "newly trained site model is a new analysis, not a reuse",
    )

    @model_validator(mode="before")
    @classmethod
    def _translator_only_for_a_model(cls, data: Any) -> Any:
        # A translator only works for a model: without one it changes nothing, so it must not change the key.
        # An unknown name is kept, so that the field's own check refuses it all the same.
        if isinstance(data, dict) and not data.get("model") and _known_or_unset(data.get("translator")):
            return {**data, "model": None, "translator": None}
        return data

    @field_validator("translator")
    @classmethod
    def _known_translator(cls, value: str | None) -> str | None:
        return value if value is None else known_translator(value)

    @classmethod
    def of(cls, settings: Settings, labels: dict[str, str] | None = None, **choices: Any) -> AnalysisRequest:
        """The operator's defaults with a user's `choices` (None: the default); bad values raise SettingsError.

        `labels` names the fields as the user set them (default: the CLI's flags).
        """
        defaults: dict[str, Any] = {
            "detector": settings.detector,
            "fps": settings.detect_fps,
            "model": settings.vlm,
            "translator": settings.translator,
            "frames": settings.num_frames,
            "lang": settings.lang,
        }
        merged = {**defaults, **{k: v for k, v in choices.items() if v is not None}}
        # "none" is how a user says "no model" / "no translation".
        merged.update({k: None for k in ("model", "translator") if merged[k] == "none"})
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise explain(exc, {**FLAG_NAMES, **(labels or {})}, subject="request") from None

    def key(self) -> str:
        """A digest of everything that changes the result: equal requests for the same bytes are analysed once."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def _known_or_unset(name: str | None) -> bool:
    try:
        return not name or bool(known_translator(name))
    except ValueError:
        return False
