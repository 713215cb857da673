"""The shared vocabulary that crosses module lines: video info, events, reports, chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator


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
    intrusion = "intrusion"  # a person stayed in a camera's danger zone


class Box(BaseModel):
    """A box in normalised image coordinates (0..1, origin top-left)."""

    x1: float
    y1: float
    x2: float
    y2: float


class ZoneKind(str, Enum):
    """What a zone drawn on a camera's picture means."""

    danger = "danger"  # a person inside it longer than its dwell raises an intrusion
    ignore = "ignore"  # falls and lying people inside it are not alarms (a rest area, a mat)


MAX_ZONES = 32  # per camera
MAX_DWELL_S = 600.0
# A point of a zone in normalised image coordinates, like a Box.
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
ZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]


def polygon_area(points: list[tuple[float, float]]) -> float:
    """The area a polygon encloses (shoelace formula), in the units of its points."""
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True))
    return abs(twice) / 2


class Zone(BaseModel):
    """A polygon on one camera's picture (points normalised 0..1, origin top-left) and what it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ZoneName
    kind: ZoneKind
    points: list[tuple[Unit, Unit]] = Field(min_length=3, max_length=64, description="[x, y] corners, 0..1")
    dwell_s: float = Field(
        2.0, ge=0, le=MAX_DWELL_S, allow_inf_nan=False, description="danger: seconds inside before an intrusion"
    )

    @model_validator(mode="after")
    def _encloses_area(self) -> Zone:
        # A line or a point drawn by a slip of the mouse would never hold anyone.
        if polygon_area(self.points) < 1e-4:
            raise ValueError("the points enclose no area (a zone needs at least 3 corners apart)")
        return self


def _unique_names(zones: list[Zone]) -> list[Zone]:
    names = [z.name for z in zones]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ValueError(f"zone names must be unique per camera: {', '.join(doubled)}")
    return zones


# One camera's zones: at most MAX_ZONES, each name once.
Zones = Annotated[list[Zone], Field(max_length=MAX_ZONES), AfterValidator(_unique_names)]


# An event detail: the evidence reached the end of the file before it could be confirmed, so the event
# is only a possible accident and the advice is to check what happened after the video ends.
CLIP_END = "clip_end"
# An event detail: a likely fall paged because the person then stayed down this many seconds, not up again.
STAYED_DOWN = "stayed_down_s"


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


SHIPPED_MODEL = "shipped"


class ModelVersion(BaseModel):
    """Which fitted fall decision judged a video: the shipped one, or one the operator trained for a site or camera."""

    name: str = Field(SHIPPED_MODEL, description="'shipped', 'site-<site>' or 'camera-<camera>'")
    trained_at: datetime | None = Field(None, description="when a site or camera model was trained (UTC)")


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
    # A camera's zones when its clip was analysed (drawn on the keyframes); empty for anything else.
    zones: list[Zone] = Field(default_factory=list)
    detector: str
    detector_model: ModelVersion | None = Field(None, description="the fitted decision (None: a rule detector)")
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
