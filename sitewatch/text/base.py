"""What a language file provides: its words, and the few sentences whose grammar differs by language."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from typing import ClassVar

from sitewatch.schema import SHIPPED_MODEL, EventKind, ModelVersion, Verdict
from sitewatch.text.clock import local
from sitewatch.text.incidents import Incident
from sitewatch.text.style import SIGNAL_FULL_SCALE


class Intent(str, Enum):
    """A kind of question the report alone can answer."""

    what = "what"
    when = "when"
    people = "people"
    down = "down"


class Language(ABC):
    """One language's words and sentence builders; a new language is one subclass in one new file."""

    code: ClassVar[str]
    native_name: ClassVar[str]
    # Labels and sentences with {placeholders}, keyed by name; every language has the same keys.
    strings: ClassVar[Mapping[str, str]]
    # The glossary noun for each kind (넘어짐, 쓰러짐, 부딪힘, 낙하물 / fall, person down, ...).
    events: ClassVar[Mapping[EventKind, str]]
    verdicts: ClassVar[Mapping[Verdict, str]]
    example_questions: ClassVar[tuple[str, ...]]
    # Substrings of a lower-cased question that ask for each intent.
    keywords: ClassVar[Mapping[Intent, tuple[str, ...]]]

    def t(self, key: str, **values: object) -> str:
        """The string `key`, formatted with `values`."""
        text = self.strings[key]
        return text.format(**values) if values else text

    def percent(self, value: float) -> str:
        """A confidence as a whole percentage."""
        return f"{value:.0%}"

    def signal_label(self, name: str, peak: float) -> str:
        """A timeline signal's name with its scale and peak: 넘어짐 점수(0~1, 최고 0.98), people in view (at most 2)."""
        share = peak / SIGNAL_FULL_SCALE.get(name, 1.0)
        key = f"signal_{name}"
        return self.t(key if key in self.strings else "signal_other", name=name, peak=peak, share=share)

    def detector_name(self, detector: str) -> str:
        """The report's detector ("pose (fps 6)") in plain words: 자세 분석, 초당 6장."""
        match = re.fullmatch(r"(?P<name>[\w-]+) \(fps (?P<fps>[\d.]+)\)", detector)
        if match is None:
            return detector
        key = f"detector_{match['name']}"
        name = self.t(key) if key in self.strings else match["name"]
        return self.t("detector_rate", name=name, fps=match["fps"])

    def decided_by(self, version: ModelVersion) -> str:
        """Which fitted model decided: the shipped one, or the one trained for a site or camera (and when)."""
        if version.name == SHIPPED_MODEL:
            return self.t("model_shipped")
        scope, _, name = version.name.partition("-")
        key = f"model_{scope}"
        if key not in self.strings or not name or version.trained_at is None:
            return self.t("model_other", name=version.name)
        return self.t(key, name=name, date=local(version.trained_at).date().isoformat())

    def confidence(self, value: float) -> str:
        """'confidence 92%' in this language."""
        return self.t("confidence_value", value=self.percent(value))

    @abstractmethod
    def seconds(self, s: float) -> str:
        """A time or a duration in seconds (minutes past 60 s)."""

    @abstractmethod
    def people_seen(self, most: int, involved: int = 0) -> str:
        """A sentence: how many people were visible at once (and how many were involved)."""

    @abstractmethod
    def incident(self, incident: Incident) -> str:
        """One sentence for one incident: when, what, its later phases, and how sure."""

    @abstractmethod
    def accident_opening(self, incidents: int) -> str:
        """The first sentence of an accident verdict that names how many incidents there were."""
