"""The shared vocabulary that crosses module lines: video info, events, reports, chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator


class VideoInfo(BaseModel):
    """What `sitewatch.video.probe` learns about a file without decoding it all."""

    path: str
    size_bytes: int
    container: str
    codec: str
    width: int = Field(description="display width, after rotation metadata")
    height: int = Field(description="display height, after rotation metadata")
    rotation: int = Field(0, description="clockwise degrees the frames are turned for display")
    fps: float = Field(description="average frame rate")
    variable_frame_rate: bool = False
    duration_s: float
    frame_count: int
    frame_count_exact: bool = Field(False, description="counted from the container, not estimated")
    bit_rate: int | None = None
    has_audio: bool = False
    is_image: bool = False
    start_time_s: float = 0.0


class EventKind(str, Enum):
    """The kinds of accident the detector and the models report."""

    fall = "fall"
    person_down = "person_down"
    struck_by = "struck_by"
    object_drop = "object_drop"
    person_lost_after_fall = "person_lost_after_fall"


class Box(BaseModel):
    """A box in normalised image coordinates (0..1, origin top-left)."""

    x1: float
    y1: float
    x2: float
    y2: float


# An event detail: the evidence reached the end of the file before it could be confirmed, so the event
# is only a possible accident and the advice is to check what happened after the video ends.
CLIP_END = "clip_end"


class Event(BaseModel):
    """One accident found in a video, with when, how sure, who and where."""

    kind: EventKind
    start_s: float
    end_s: float
    confidence: float = Field(ge=0.0, le=1.0)
    keyframe_s: float = Field(description="the moment that best shows the event")
    people: list[int] = Field(default_factory=list, description="track ids of the people involved")
    box: Box | None = None
    source: str = Field("detector", description="'detector' or the model that reported it")
    details: dict[str, float] = Field(default_factory=dict, description="the signals behind it")
    description: str = ""


class Stage(str, Enum):
    """Where an analysis is in its work (progress callbacks, live progress of a job)."""

    start = "start"
    detect = "detect"
    verify = "verify"


class Source(str, Enum):
    """Who asked for an analysis kept in the history."""

    api = "api"
    cli = "cli"
    page = "page"
    batch = "batch"
    camera = "camera"


class Verdict(str, Enum):
    """The answer to 'did an accident happen?'."""

    accident = "accident"
    no_accident = "no_accident"
    uncertain = "uncertain"


class SignalSeries(BaseModel):
    """One detector signal over time, for the report's timeline plot."""

    name: str
    times_s: list[float]
    values: list[float]


class ModelOpinion(BaseModel):
    """A video-language model's answer about one window of the video."""

    model: str
    start_s: float
    end_s: float
    accident: bool | None
    kind: str | None = None
    severity: str | None = None
    people: str | None = None
    when: str | None = None
    description: str = ""
    raw: str = ""
    error: str | None = Field(None, description="why the answer is missing, empty or cut off (None when whole)")


class Report(BaseModel):
    """The result of analysing one video: the findings first (the order of report.json), then the metadata."""

    verdict: Verdict
    confidence: float = Field(ge=0.0, le=1.0)
    events: list[Event] = Field(default_factory=list)
    # The summary in every language sitewatch speaks (language code -> text), for programs that do not render it.
    summary: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    coverage: float = Field(1.0, ge=0.0, le=1.0, description="fraction of the video that could be read")
    people_max: int = 0
    detector: str
    model: str | None = None
    opinions: list[ModelOpinion] = Field(default_factory=list)
    scene_en: str = ""
    # The model's scene description in the other languages it was translated into (language code -> text).
    scene_translations: dict[str, str] = Field(default_factory=dict)
    video: VideoInfo
    signals: list[SignalSeries] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    # Paths (relative to the report folder) that sitewatch wrote there: the only files it may replace or delete.
    outputs: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    sitewatch_version: str = ""

    @model_validator(mode="before")
    @classmethod
    def _summary_by_language(cls, data: Any) -> Any:
        # Reports kept before the summary became a mapping carried one field per language (summary_en, ...).
        if not isinstance(data, dict) or not any(k.startswith("summary_") for k in data):
            return data
        legacy = {k.removeprefix("summary_"): v for k, v in data.items() if k.startswith("summary_")}
        rest = {k: v for k, v in data.items() if not k.startswith("summary_")}
        return {**rest, "summary": {**legacy, **rest.get("summary", {})}}


Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    """One chat turn."""

    role: Role
    content: str


@dataclass(frozen=True)
class VideoClip:
    """Frames handed to a model: RGB uint8 (T, H, W, 3) with the second each frame was taken."""

    frames: np.ndarray
    times_s: list[float]
    is_image: bool = False
    source: str = ""


@dataclass
class GenerationOptions:
    """How to decode an answer; greedy with 200 new tokens unless told otherwise, like the PLLaVA demo."""

    max_new_tokens: int = 200
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 0.9
    num_beams: int = 1
    repetition_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
