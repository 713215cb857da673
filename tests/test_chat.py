"""ChatSession: system prompt, history, report context, one encode per session, streaming, Korean
through a loopback translation server, report-only answers without a model, and the terminal loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from media import SHARED_VIDEOS
from openai_stub import OpenAIStub, RecordedRequest, unused_port

from sitewatch.chat import ChatSession, ChatTurn
from sitewatch.cli.terminal_chat import run_terminal_chat
from sitewatch.errors import SitewatchError
from sitewatch.prompts import DEFAULT_SYSTEM_PROMPT, report_context
from sitewatch.schema import Event, EventKind, GenerationOptions, Message, Report, Verdict, VideoClip, VideoInfo
from sitewatch.service.assess import analyze
from sitewatch.settings import get_settings
from sitewatch.text import detect_intents, language
from sitewatch.translate.model import ModelTranslator
from sitewatch.translate.openai import OpenAITranslator

PLLAVA_DEMO_SYSTEM = """You are a powerful Video Magic ChatBot, a large vision-language assistant. 
You are able to understand the video content that the user provides and assist the user in a video-language related task.
The user might provide you with the video and maybe some extra noisy information to help you out or ask you a question. Make use of the information in a proper way to be competent for the job.
### INSTRUCTIONS:
1. Follow the user's instruction.
2. Be critical yet believe in yourself.
"""  # noqa: W291, E501  (byte-exact copy of pllava.md §7.3, trailing space included)


class FakeVLM:
    """A backend whose answers the test controls; it records every call."""

    name = "fake"

    def __init__(self, answer: Callable[[list[Message]], str] | None = None) -> None:
        self.answer = answer or (lambda messages: f"Answer {sum(m.role == 'user' for m in messages)}.")
        self.encoded: list[VideoClip] = []
        self.calls: list[tuple[object, list[Message]]] = []

    def encode(self, clip: VideoClip) -> object:
        self.encoded.append(clip)
        return ("handle", len(self.encoded))

    def generate(self, video: object, messages: list[Message], options: GenerationOptions) -> str:
        return "".join(self.stream(video, messages, options))

    def stream(self, video: object, messages: list[Message], options: GenerationOptions):
        self.calls.append((video, list(messages)))
        for word in self.answer(messages).split(" "):
            yield word + " "


def _clip() -> VideoClip:
    return VideoClip(frames=np.zeros((2, 8, 8, 3), np.uint8), times_s=[0.0, 1.0], source="site.mp4")


def _report(events: list[Event] | None = None, people: int = 2) -> Report:
    video = VideoInfo(
        path="site.mp4", size_bytes=1000, container="mov,mp4", codec="h264", width=640, height=360,
        fps=30.0, duration_s=35.0, frame_count=1050,
    )  # fmt: skip
    if events is None:
        events = [
            Event(kind=EventKind.fall, start_s=12.0, end_s=13.5, confidence=0.91, keyframe_s=12.4,
                  people=[1]),
            Event(kind=EventKind.person_down, start_s=14.0, end_s=30.0, confidence=0.77, keyframe_s=15.0,
                  people=[1]),
        ]  # fmt: skip
    verdict = Verdict.accident if events else Verdict.no_accident
    return Report(
        video=video, verdict=verdict, confidence=0.88 if events else 0.9, events=events,
        summary={
            "en": "A worker fell near the scaffold and stayed down.",
            "ko": "작업자가 비계 근처에서 넘어진 뒤 일어나지 못했습니다.",
        }
        if events
        else {},
        detector="pose", people_max=people,
    )  # fmt: skip


class DictTranslator:
    """Translates by table and records its calls."""

    name = "dict"

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.calls: list[tuple[str, str, str]] = []

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        return self.table[text]


# --- system prompt and context ----------------------------------------------------------------


def test_default_system_prompt_is_the_pllava_demo_prompt_byte_for_byte():
    assert DEFAULT_SYSTEM_PROMPT == PLLAVA_DEMO_SYSTEM
    assert DEFAULT_SYSTEM_PROMPT.splitlines()[0].endswith("assistant. ")
    assert DEFAULT_SYSTEM_PROMPT.count("\n") == 6 and DEFAULT_SYSTEM_PROMPT.endswith("yourself.\n")


def test_report_context_is_compact_english():
    text = report_context(_report())
    assert "Verdict: accident (confidence 0.88) for this 35.0 s video." in text
    assert "- fall from 12.0 s to 13.5 s, confidence 0.91, people involved: 1" in text
    assert "- person_down from 14.0 s to 30.0 s, confidence 0.77" in text
    assert "Most people visible at once: 2." in text
    assert "Events: none detected." in report_context(_report(events=[]))


# --- chat with a model ------------------------------------------------------------------------


def test_video_is_encoded_once_and_the_handle_reused():
    vlm = FakeVLM()
    session = ChatSession(_clip(), _report(), model=vlm)
    for question in ("What happened?", "Who fell?", "Was a hard hat worn?"):
        session.ask(question)
    assert len(vlm.encoded) == 1
    assert [video for video, _ in vlm.calls] == [("handle", 1)] * 3


def test_history_order_system_prompt_and_report_context():
    vlm = FakeVLM()
    session = ChatSession(_clip(), _report(), model=vlm)
    first = session.ask("What happened?")
    session.ask("Who fell?")
    assert first == ChatTurn(
        question="What happened?",
        question_en="What happened?",
        answer="Answer 1.",
        answer_en="Answer 1.",
        lang="en",
    )
    session.ask("When?")
    _, messages = vlm.calls[-1]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[0].content == DEFAULT_SYSTEM_PROMPT
    assert [m.content for m in messages[1:5]] == ["What happened?", "Answer 1.", "Who fell?", "Answer 2."]
    # The report travels with the newest question only.
    assert messages[5].content == report_context(_report()) + "\n\nWhen?"
    assert all("Verdict:" not in m.content for m in messages[:5])
    assert [t.question for t in session.history] == ["What happened?", "Who fell?", "When?"]


def test_system_prompt_is_applied_on_every_turn():
    vlm = FakeVLM()
    session = ChatSession(_clip(), model=vlm, system_prompt="Be brief.")
    session.ask("What happened?")
    session.system_prompt = "Be very brief."
    session.ask("Why?")
    assert [calls[1][0].content for calls in vlm.calls] == ["Be brief.", "Be very brief."]
    assert vlm.calls[0][1][-1].content == "What happened?"  # no report, no context


def test_stream_in_english_grows_the_answer():
    session = ChatSession(_clip(), _report(), model=FakeVLM(lambda m: "A worker fell down."))
    turns = list(session.stream("What happened?"))
    assert [t.answer for t in turns[:-1]] == ["A ", "A worker ", "A worker fell ", "A worker fell down. "]
    assert not any(t.complete for t in turns[:-1])
    assert turns[-1].complete and turns[-1].answer == turns[-1].answer_en == "A worker fell down."
    assert session.history == [turns[-1]]


def test_stream_in_korean_translates_once_the_english_answer_is_complete():
    translator = DictTranslator(
        {"무슨 일이 있었나요?": "What happened?", "A worker fell.": "작업자가 넘어졌습니다."}
    )
    session = ChatSession(_clip(), model=FakeVLM(lambda m: "A worker fell."), translator=translator)
    turns = list(session.stream("무슨 일이 있었나요?"))
    assert [(t.answer, t.answer_en) for t in turns[:-1]] == [
        ("", "A "),
        ("", "A worker "),
        ("", "A worker fell. "),
    ]
    assert turns[-1] == ChatTurn(
        question="무슨 일이 있었나요?", question_en="What happened?", answer="작업자가 넘어졌습니다.",
        answer_en="A worker fell.", lang="ko",
    )  # fmt: skip
    assert translator.calls == [("무슨 일이 있었나요?", "ko", "en"), ("A worker fell.", "en", "ko")]


def test_an_unfinished_stream_records_no_turn():
    session = ChatSession(_clip(), model=FakeVLM(lambda m: "one two three"))
    stream = session.stream("What happened?")
    next(stream)
    stream.close()
    assert session.history == []


def test_answer_language_can_differ_from_the_question():
    translator = DictTranslator({"Answer 1.": "답변 1입니다."})
    session = ChatSession(_clip(), model=FakeVLM(), translator=translator)
    turn = session.ask("What happened?", lang="ko")
    assert (turn.question_en, turn.answer, turn.answer_en, turn.lang) == (
        "What happened?", "답변 1입니다.", "Answer 1.", "ko",
    )  # fmt: skip


def test_reset_clears_history_but_keeps_the_encoded_video():
    vlm = FakeVLM()
    session = ChatSession(_clip(), _report(), model=vlm)
    session.ask("What happened?")
    session.reset()
    assert session.history == []
    session.ask("When?")
    assert len(vlm.encoded) == 1
    assert [m.role for m in vlm.calls[-1][1]] == ["system", "user"]


def test_bad_input_is_refused():
    with pytest.raises(SitewatchError, match="needs the video's frames"):
        ChatSession(model=FakeVLM())
    with pytest.raises(SitewatchError, match="empty"):
        ChatSession().ask("   ")
    with pytest.raises(SitewatchError, match="empty"):
        ChatSession().stream("")  # refused when called, before any iteration


def test_the_chat_model_can_translate_for_itself():
    def answer(messages: list[Message]) -> str:
        if messages[0].content.startswith("You are a translator"):
            text = messages[1].content.removeprefix("<source>\n").removesuffix("\n</source>")
            return {"넘어졌나요?": "Did someone fall?", "Yes, at 12.4 s.": "네, 12.4초에 넘어졌습니다."}[text]
        return "Yes, at 12.4 s."

    vlm = FakeVLM(answer)
    session = ChatSession(_clip(), model=vlm, translator=ModelTranslator(vlm))
    turn = session.ask("넘어졌나요?")
    assert (turn.question_en, turn.answer) == ("Did someone fall?", "네, 12.4초에 넘어졌습니다.")
    # Translations go to the model without a video; the chat turn uses the one encoded handle.
    assert [video for video, _ in vlm.calls] == [None, ("handle", 1), None]
    assert len(vlm.encoded) == 1


# --- Korean in and out through a loopback OpenAI-compatible translator ---------------------------


def _translation_server(request: RecordedRequest) -> str:
    system, user = request.messages
    text = user["content"].removeprefix("<source>\n").removesuffix("\n</source>")
    into_english = "into English" in system["content"]
    table = {
        "작업자가 넘어졌나요?": "Did the worker fall?",
        "Yes, the worker fell at 12.4 s and did not get up.": (
            "네, 작업자가 12.4초에 넘어진 뒤 일어나지 못했습니다."
        ),
        "언제 일어났나요?": "When did it happen?",
        "It happened at 12.4 s.": "12.4초에 일어났습니다.",
    }
    assert (text in table) and into_english == (text[0] in "작언")
    return table[text]


def test_korean_chat_through_the_loopback_translator():
    answers = iter(["Yes, the worker fell at 12.4 s and did not get up.", "It happened at 12.4 s."])
    vlm = FakeVLM(lambda messages: next(answers))
    with OpenAIStub(_translation_server) as server:
        translator = OpenAITranslator(server.base_url, "gpt-4o-mini", api_key="k", retries=0)
        session = ChatSession(_clip(), _report(), model=vlm, translator=translator)
        first = session.ask("작업자가 넘어졌나요?")
        second = session.ask("언제 일어났나요?")
    assert first.answer == "네, 작업자가 12.4초에 넘어진 뒤 일어나지 못했습니다."
    assert first.answer_en == "Yes, the worker fell at 12.4 s and did not get up."
    assert (second.question_en, second.answer, second.lang) == (
        "When did it happen?",
        "12.4초에 일어났습니다.",
        "ko",
    )
    # The model saw English only.
    _, messages = vlm.calls[-1]
    assert [m.content for m in messages[1:4]] == [
        "Did the worker fall?", "Yes, the worker fell at 12.4 s and did not get up.", messages[3].content,
    ]  # fmt: skip
    assert messages[3].content.endswith("\n\nWhen did it happen?")
    assert len(server.requests) == 4
    assert "존댓말" in server.requests[1].messages[0]["content"]


def test_translation_failure_answers_from_the_report_and_says_why():
    translator = OpenAITranslator(f"http://127.0.0.1:{unused_port()}/v1", "m", retries=1, backoff_s=0.01)
    vlm = FakeVLM()
    session = ChatSession(_clip(), _report(), model=vlm, translator=translator)
    turn = session.ask("무슨 일이 있었나요?")
    assert turn.source == "report" and turn.lang == "ko" and vlm.calls == []
    assert turn.answer.startswith("사고가 감지되었습니다. 12.0초에 사람이 넘어졌고")
    assert "감지기 보고서로 답변드렸습니다" in turn.answer and "SITEWATCH_" not in turn.answer
    assert "nothing listens" in turn.warnings[0]
    assert session.history == [turn]


# --- report-only answers without a model ---------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What happened?", ["Accident detected. A person fell at 12.0 s, then lay on the ground until 30.0 s "
                            "(confidence 91%).", "Please check on the worker"]),
        ("When did it happen?", ["A person fell at 12.0 s, then lay on the ground until 30.0 s (confidence 91%)."]),
        ("How many people were there?", ["Up to 2 people were visible at once. One of them was involved."]),
        ("Is someone down?", ["Yes. A person fell at 12.0 s, then lay on the ground until 30.0 s"]),
        ("Hello", ["Accident detected.", "You can ask what happened"]),
    ],
)
def test_report_only_answers_in_english(question, expected):
    turn = ChatSession(report=_report()).ask(question)
    assert turn.source == "report" and turn.lang == "en"
    for text in expected:
        assert text in turn.answer
    assert "SITEWATCH_" not in turn.answer and "--model" not in turn.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "무슨 일이 있었나요?",
            [
                "사고가 감지되었습니다.",
                "12.0초에 사람이 넘어졌고, 이후 30.0초까지 바닥에 쓰러져 있었습니다(신뢰도 91%).",
            ],
        ),
        ("언제 일어났어요?", ["12.0초에 사람이 넘어졌고, 이후 30.0초까지 바닥에 쓰러져 있었습니다(신뢰도 91%)."]),
        ("사람이 몇 명 있었나요?", ["화면에는 동시에 최대 2명이 보였습니다.", "관련된 사람은 1명입니다."]),
        ("쓰러진 사람이 있나요?", ["네. 12.0초에 사람이 넘어졌고"]),
    ],
)
def test_report_only_answers_in_polite_korean(question, expected):
    turn = ChatSession(report=_report()).ask(question)
    assert turn.lang == "ko" and turn.question_en == ""
    for text in expected:
        assert text in turn.answer
    assert "SITEWATCH_" not in turn.answer and "SITEWATCH_" not in turn.answer_en
    assert turn.answer.endswith(("니다.", "%).")), turn.answer
    assert turn.answer_en == ""  # no model spoke: there is no English original to offer


def test_report_only_without_events_or_report():
    quiet = ChatSession(report=_report(events=[], people=0))
    assert quiet.ask("쓰러진 사람이 있나요?").answer.startswith(
        "아니요, 넘어지거나 쓰러진 사람은 감지되지 않았습니다."
    )
    assert quiet.ask("How many people?").answer.startswith("No people were seen")
    assert quiet.ask("When?").answer.startswith("The detector found no accident")
    assert ChatSession().ask("무슨 일이에요?").answer.startswith("아직 이 영상의 분석 결과가 없어서")


def test_intents_in_both_languages():
    assert detect_intents("When did the worker fall?", "en") == ["when", "down"]
    assert detect_intents("몇 명이 다쳤나요?", "ko") == ["people", "down"]
    assert detect_intents("Thanks", "en") == []


# --- terminal loop ---------------------------------------------------------------------------------


def _run(session: ChatSession, lines: list[str]) -> tuple[int, str]:
    inputs = iter(lines)

    def input_fn(prompt: str) -> str:
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    written: list[str] = []
    answered = run_terminal_chat(session, input_fn, written.append)
    return answered, "".join(written)


def test_terminal_chat_report_only_commands():
    session = ChatSession(report=_report())
    answered, out = _run(
        session, ["What happened?", "/en", "/reset", "쓰러진 사람이 있나요?", "/quit", "never"]
    )
    assert answered == 2
    assert out.startswith("영상에 대해 한국어나 영어로 질문해 주세요.")
    assert "Accident detected." in out and "대화를 지웠습니다." in out and "네. " in out
    assert len(session.history) == 1


def test_terminal_chat_streams_english_then_prints_korean():
    translator = DictTranslator({"무슨 일이에요?": "What is it?", "A worker fell.": "작업자가 넘어졌습니다."})
    session = ChatSession(_clip(), model=FakeVLM(lambda m: "A worker fell."), translator=translator)
    answered, out = _run(session, ["무슨 일이에요?", "What is it?"])
    assert answered == 2
    assert "EN: A worker fell. \n작업자가 넘어졌습니다.\n" in out
    assert out.endswith("A worker fell. \n\n")


def test_terminal_chat_says_why_a_turn_degraded_and_goes_on():
    translator = OpenAITranslator(f"http://127.0.0.1:{unused_port()}/v1", "m", retries=0)
    session = ChatSession(_clip(), model=FakeVLM(), translator=translator)
    answered, out = _run(session, ["무슨 일이에요?", "What happened?"])
    assert answered == 2 and "warning: translation server: nothing listens" in out and "Answer 1." in out


def test_terminal_chat_answers_in_the_language_asked_for():
    session = ChatSession(report=_report())
    _, out = _run(session, ["쓰러진 사람이 있나요?"])
    assert "네. 12.0초에" in out
    session = ChatSession(report=_report())
    written: list[str] = []
    lines = iter(["쓰러진 사람이 있나요?"])

    def input_fn(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    run_terminal_chat(session, input_fn, written.append, ui_lang="en", answer_lang="en")
    out = "".join(written)
    assert out.startswith("Ask about the video") and "Yes. A person fell at 12.0 s" in out


def test_korean_question_without_a_translator_says_how_to_get_korean_answers():
    english = ChatSession(_clip(), model=FakeVLM(lambda m: "A worker fell.")).ask("무슨 일이 있었나요?")
    assert english.answer.startswith("A worker fell.")
    assert english.answer.endswith(language("ko").t("chat_no_translator"))
    korean = ChatSession(_clip(), model=FakeVLM(lambda m: "작업자가 넘어졌습니다.")).ask("무슨 일이 있었나요?")
    assert korean.answer == "작업자가 넘어졌습니다."


def test_a_resumed_chat_gives_the_model_its_earlier_turns():
    vlm = FakeVLM()
    first = ChatSession(_clip(), _report(), model=vlm)
    first.ask("What happened?")
    again = ChatSession(_clip(), _report(), model=vlm)
    again.resume(first.history)
    messages = again.messages("And then?")
    assert [m.content for m in messages[1:3]] == ["What happened?", first.history[0].answer_en]
    again.reset()
    assert again.history == [] and len(first.history) == 1


# --- answers read as a person would say them (issue 21) -------------------------------------------


def _lost_report() -> Report:
    """The report a site manager saw: one person lost from view after a fast drop, not sure."""
    lost = Event(kind=EventKind.person_lost_after_fall, start_s=5.8, end_s=7.7, confidence=0.42, keyframe_s=6.0,
                 people=[1])
    return _report(events=[lost]).model_copy(update={"verdict": Verdict.uncertain, "confidence": 0.42})


# Event labels said as if they were the grammatical subject ("넘어진 뒤 사라짐은 …", "The lost from view …").
LABEL_AS_SUBJECT = ("짐은 ", "짐이 ", "물은 ", "힘은 ", "The fall ", "The person down ", "The lost ", "The falling ")


def _reads_naturally(answer: str) -> None:
    assert not any(label in answer for label in LABEL_AS_SUBJECT), answer
    # "네." / "Yes." only opens an answer; it never sits after a sentence that already answered.
    assert "니다. 네." not in answer and ". Yes." not in answer, answer


@pytest.mark.parametrize("report", [_report(), _lost_report()], ids=["fall", "lost"])
def test_when_did_they_fall_is_answered_with_the_time_and_no_stray_yes(report: Report) -> None:
    first = report.events[0]
    when_ko = ChatSession(report=report).ask("언제 넘어졌나요?").answer
    when_en = ChatSession(report=report).ask("When did the worker fall?").answer
    assert when_ko.startswith(f"{first.start_s:.1f}초에 사람이 ") and when_ko.endswith("%).")
    assert when_en.startswith("A person ") and f"at {first.start_s:.1f} s" in when_en
    for answer in (when_ko, when_en):
        _reads_naturally(answer)
        assert not answer.startswith(("네", "Yes", "Possibly", "확실"))


def test_is_someone_down_says_yes_or_hedges_by_the_verdict() -> None:
    sure = ChatSession(report=_report()).ask("쓰러진 사람이 있나요?").answer
    assert sure.startswith("네. 12.0초에 사람이 넘어졌고")
    unsure = ChatSession(report=_lost_report()).ask("쓰러진 사람이 있나요?").answer
    assert unsure.startswith("확실하지는 않지만") and "5.8초에 사람이 빠르게" in unsure and "네." not in unsure
    assert ChatSession(report=_lost_report()).ask("Is anyone down?").answer.startswith("Possibly")


@pytest.mark.skipif(not SHARED_VIDEOS.is_dir(), reason="shared clips absent")
@pytest.mark.parametrize("clip", ["dev01_sriram2226.mp4", "dev04_yugesh_kc.mp4"])
def test_answers_about_real_clips_read_naturally(clip: str) -> None:
    """Real clips through the real detector: every answer is natural polite Korean and plain English."""
    report = analyze(SHARED_VIDEOS / clip, get_settings())
    questions = {
        "ko": ("언제 넘어졌나요?", "쓰러진 사람이 있나요?", "무슨 일이 있었나요?", "몇 명이 다쳤나요?", "언제였나요?"),
        "en": ("When did the worker fall?", "Is someone down?", "What happened?", "How many people were hurt?"),
    }
    for lang, asked in questions.items():
        for question in asked:
            turn = ChatSession(report=report).ask(question)
            _reads_naturally(turn.answer)
            assert turn.answer_en == "" and turn.lang == lang
            if lang == "ko":
                assert turn.answer.endswith(("니다.", "%).")), turn.answer


def test_report_answers_offer_no_english_original_and_en_says_why() -> None:
    """Only a model's answer has an English original: report answers leave it empty, /en explains."""
    turn = ChatSession(report=_report()).ask("무슨 일이 있었나요?")
    assert turn.source == "report" and turn.answer_en == ""
    _, out = _run(ChatSession(report=_report()), ["무슨 일이 있었나요?", "/en"])
    assert language("ko").t("chat_no_original") in out
    failed = ChatSession(_clip(), _report(), model=FakeVLM(lambda m: ""))
    degraded = failed.ask("What happened?")
    assert degraded.source == "report" and degraded.answer_en == ""
    spoke = ChatSession(_clip(), model=FakeVLM(lambda m: "A worker fell.")).ask("What happened?")
    assert spoke.source == "model" and spoke.answer_en == "A worker fell."
