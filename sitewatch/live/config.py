"""What `sitewatch watch` is told to watch and whom to tell: the YAML config file and the CLI, validated once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sitewatch.detect.base import ACCIDENT_CONFIDENCE
from sitewatch.errors import SettingsError
from sitewatch.live.urls import mask_url
from sitewatch.schema import Zones
from sitewatch.text.languages import Lang

# A camera name goes into MQTT topics and file names: letters, digits, '-', '_' and '.'.
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraConfig(_Strict):
    """One camera: where to read it, how it is labelled, and what it overrides of the watch-wide values."""

    name: Name
    url: str = Field(min_length=1, description="rtsp://, http(s):// (MJPEG, HLS), /dev/videoN, file:// or a path")
    site: str | None = Field(None, max_length=100)
    loop: bool = Field(False, description="replay a file source from the start when it ends")
    # Unset: the watch-wide value below (a busy gate may want a higher rate, a night camera another language).
    fps: float | None = Field(None, gt=0, le=60, allow_inf_nan=False, description="detector rate")
    lang: Lang | None = Field(None, description="alert language")
    min_confidence: float | None = Field(None, ge=0, le=1, description="events below it raise no alert")
    cooldown_s: float | None = Field(None, ge=0, le=3600, description="one alert within this many seconds")
    down_alert_s: float | None = Field(None, ge=0, le=600, description="lying this long, never upright: alert")
    # Unset: the zones in the history are left as they are; a list is written there when `watch` starts, unless an
    # operator has saved this camera's zones in the console since (the console's then win).
    zones: Zones | None = Field(None, description="polygons on the picture: danger (intrusion) and ignore zones")


class WatchConfig(_Strict):
    """Cameras, notification targets and the incident timing of one `sitewatch watch` process."""

    cameras: list[CameraConfig] = Field(min_length=1)
    webhooks: list[str] = Field(default_factory=list)
    mqtt: str | None = Field(None, description="mqtt://user:pass@host:1883 (mqtts:// for TLS)")
    notify: list[str] = Field(default_factory=list, description="apprise URLs (slack://, tgram://, mailto://, ...)")
    lang: Lang | None = Field(None, description="alert language (default SITEWATCH_LANG)")
    fps: float | None = Field(
        None, gt=0, le=60, allow_inf_nan=False, description="detector rate (default SITEWATCH_DETECT_FPS)"
    )
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/@]+(/\S*)?$",
        description="where receivers reach `sitewatch serve` (https://sitewatch.example): alerts link to reports",
    )
    pre_roll_s: float = Field(5.0, ge=0, le=60, description="seconds of video kept before an incident")
    post_roll_s: float = Field(5.0, ge=0, le=60, description="seconds of video kept after it")
    cooldown_s: float = Field(30.0, ge=0, le=3600, description="one alert per camera within this many seconds")
    min_confidence: float = Field(ACCIDENT_CONFIDENCE, ge=0, le=1, description="events below it raise no alert")
    review_possible: bool = Field(
        True, description="events below min_confidence are kept as possible incidents (clip, review queue), unpaged"
    )
    stall_s: float = Field(5.0, gt=0, le=300, description="a camera silent this long is reconnected")
    down_alert_s: float = Field(
        10.0, ge=0, le=600, description="a person lying this long, never seen upright (lying when watching "
        "started), raises person_down; 0: never",
    )

    def resolved(self, default_lang: Lang) -> list[CameraConfig]:
        """Every camera with each value it leaves unset taken from the watch-wide one (language: `default_lang`)."""
        inherited = ("fps", "min_confidence", "cooldown_s", "down_alert_s")
        return [
            camera.model_copy(update={
                **{k: getattr(self, k) for k in inherited if getattr(camera, k) is None},
                "lang": camera.lang or self.lang or default_lang,
            })
            for camera in self.cameras
        ]  # fmt: skip

    @field_validator("cameras")
    @classmethod
    def _unique(cls, cameras: list[CameraConfig]) -> list[CameraConfig]:
        names = [c.name for c in cameras]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"camera names must be unique: {', '.join(doubled)}")
        return cameras


def _camera_name(url: str, taken: set[str]) -> str:
    """A name for a camera given only by its URL: its last path part, made unique."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(mask_url(url).split("?")[0]).stem).strip("-.") or "camera"
    name, n = stem[:60], 2
    while name in taken:
        name, n = f"{stem[:60]}-{n}", n + 1
    return name


def explain(exc: ValidationError, where: str) -> SettingsError:
    """One line naming each bad key (dotted path) of `where` and what is wrong with it."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "config"
        problems.append(f"{key}: {err['msg'].lower()}")
    return SettingsError(f"{where}: " + "; ".join(problems))


def load_config(path: Path | None, sources: list[str], loop: bool = False, **overrides: object) -> WatchConfig:
    """The config file (if any) with the CLI's sources added as cameras (replayed if `loop`) and its flags over it."""
    import yaml

    data: dict = {}
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{path}: cannot be read as YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{path}: expected a mapping with a 'cameras' list")
    cameras = list(data.get("cameras") or [])
    taken = {c.get("name") for c in cameras if isinstance(c, dict)}
    for url in sources:
        name = _camera_name(url, taken)
        taken.add(name)
        cameras.append({"name": name, "url": url, "loop": loop})
    merged = {**data, "cameras": cameras, **{k: v for k, v in overrides.items() if v not in (None, [], ())}}
    try:
        return WatchConfig.model_validate(merged)
    except ValidationError as exc:
        raise explain(exc, str(path) if path else "watch") from None
