"""Request and response bodies of the API that are not store records (those come from sitewatch.store)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sitewatch.live.camera import CameraStatus
from sitewatch.store import Status
from sitewatch.text import Lang


class Submitted(BaseModel):
    """The answer to an upload: the analysis to follow, and whether an earlier identical one is reused."""

    id: str
    status: Status
    reused: bool = Field(False, description="the same video with the same options was analysed (or queued) before")


class Question(BaseModel):
    """A chat question about a done analysis."""

    question: str = Field(min_length=1, description="in Korean or English")
    lang: Lang | None = Field(None, description="answer language (default: the question's)")


class Health(BaseModel):
    """Liveness or readiness; /healthz also lists the watched cameras when the server watches any."""

    status: Literal["ok"] = "ok"
    cameras: list[CameraStatus] | None = Field(None, description="each camera's state (up, down, ...) and counters")
    warnings: list[str] | None = Field(
        None, description="what the operator should fix: webhooks_unsigned (SITEWATCH_WEBHOOK_SECRET is not set)"
    )
