"""Model-verified analysis with a backend whose answers the test controls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from media import SHARED_VIDEOS, write_video

from sitewatch.schema import EventKind, GenerationOptions, Message, Verdict, VideoClip
from sitewatch.service.assess import WHOLE_CLIP_MAX_S, analyze
from sitewatch.verify import ask_model, kind_from_text, parse_yes_no


class ScriptedModel:
    """A VideoLM that records what it is shown and answers from a script."""

    name = "scripted"

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.clips: list[VideoClip] = []
        self.prompts: list[str] = []

    def encode(self, clip: VideoClip) -> int:
        self.clips.append(clip)
        return len(self.clips) - 1

    def generate(self, video: object, messages: list[Message], options: GenerationOptions) -> str:
        self.prompts.append(messages[-1].content)
        return self.answers[(len(self.prompts) - 1) % len(self.answers)]

    def stream(self, video: object, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        yield self.generate(video, messages, options)


def clip() -> VideoClip:
    return VideoClip(frames=np.zeros((16, 8, 8, 3), np.uint8), times_s=[i / 4 for i in range(16)])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes, the man slips and falls.", True),
        ("No. The workers keep working.", False),
        ("There is no accident in the video.", False),
        ("The video shows a kitchen.", None),
        ("", None),
    ],
)
def test_yes_no_parsing(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def test_kind_from_words() -> None:
    assert kind_from_text("a load of beams drops from the crane") is EventKind.object_drop
    assert kind_from_text("the man slipped on the wet floor") is EventKind.fall
    assert kind_from_text("he is lying motionless") is EventKind.person_down
    assert kind_from_text("people walk") is None


def test_json_answer_is_read_into_an_opinion() -> None:
    model = ScriptedModel(
        ['Sure. {"accident": "yes", "kind": "fall", "who": "a worker", "when": "middle", '
         '"severity": "serious", "description": "A worker slips on the floor."}']
    )
    opinion = ask_model(model, clip(), 0.0, 4.0)
    assert opinion.accident is True and opinion.kind == "fall" and opinion.severity == "serious"
    assert opinion.description == "A worker slips on the floor." and len(model.prompts) == 1
    assert "JSON" in model.prompts[0]


def test_free_text_falls_back_to_plain_questions() -> None:
    model = ScriptedModel(["The video shows a man.", "Yes, he trips and falls.", "A man walks, trips and falls."])
    opinion = ask_model(model, clip(), 0.0, 4.0)
    assert opinion.accident is True and opinion.kind == "fall"
    assert opinion.description == "A man walks, trips and falls." and len(model.prompts) == 3
    assert len(model.clips) == 1, "the clip is encoded once for all questions"


def test_model_only_accident_on_a_quiet_clip_is_reported_with_its_source(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=40, fps=10)
    model = ScriptedModel(['{"accident": "yes", "kind": "object_drop", "description": "A box falls."}'])
    report = analyze(video, model=model)
    assert report.model == "scripted" and len(report.opinions) == 1
    assert [e.source for e in report.events] == ["scripted"]
    assert report.events[0].kind is EventKind.object_drop
    assert report.verdict is Verdict.accident and report.scene_en == "A box falls."
    assert "A box falls." in report.summary["en"]
    assert model.clips[0].frames.shape[0] == 16


def test_a_model_no_lowers_a_detector_event_and_windows_stay_small() -> None:
    path = SHARED_VIDEOS / "dev01_sriram2226.mp4"
    if not path.is_file():
        pytest.skip("shared clips absent")
    model = ScriptedModel(['{"accident": "no", "kind": "none", "description": "A man carries a box."}'])
    report = analyze(path, model=model)
    assert report.video.duration_s <= WHOLE_CLIP_MAX_S
    assert len(model.clips) == 1 + 1, "the whole clip, then the merged window around the events"
    assert all(c.frames.shape[0] == 16 for c in model.clips)
    assert all(e.details["model_agrees"] == 0.0 for e in report.events)
    assert all(e.confidence < e.details["detector_confidence"] for e in report.events)
