"""Model servers misbehaving, through a real loopback server: permanent errors, endless generation,
empty and cut-off answers, garbage translations, bad URLs, and the report and chat surviving them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("httpx")

from media import SHARED_VIDEOS, write_video
from openai_stub import CONTEXT_TOKENS, OpenAIStub, StubReply, error_reply, unused_port

from sitewatch.chat import ChatSession
from sitewatch.errors import BackendError, IncompleteAnswerError
from sitewatch.schema import GenerationOptions, Message, Report, Verdict, VideoClip, VideoInfo
from sitewatch.service.assess import analyze
from sitewatch.settings import Settings
from sitewatch.text import language
from sitewatch.translate.check import translate_checked, translate_or_keep, translation_problem
from sitewatch.translate.openai import OpenAITranslator
from sitewatch.translate.prompt import max_tokens_for
from sitewatch.verify import ask_model, opinion_warnings
from sitewatch.vlm.openai import OpenAIVideoLM, load

# llama.cpp's answer to images sent to a model loaded without its vision projector.
UNSUPPORTED = error_reply(
    500, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"
)
BUSY = error_reply(503, "Loading model")
MESSAGES = [Message(role="user", content="Did anyone fall?")]
QUESTION_KO = "쓰러진 사람이 있나요?"
# The shortest shared clip (3 s): the detector runs on it in a few seconds.
SHORT_CLIP = SHARED_VIDEOS / "dev24_cwlroda_g.mp4"


def _settings(**kwargs) -> Settings:
    return Settings(**{"timeout_s": 5.0, "retries": 2, "_env_file": None, **kwargs})


def _vlm(base_url: str, **kwargs) -> OpenAIVideoLM:
    return load(f"llava@{base_url}", _settings(backoff_s=0.01, **kwargs))


def _translator(base_url: str, **kwargs) -> OpenAITranslator:
    return OpenAITranslator(base_url, "m", **{"timeout_s": 5.0, "retries": 2, "backoff_s": 0.01, **kwargs})


def _clip() -> VideoClip:
    return VideoClip(frames=np.zeros((2, 32, 32, 3), np.uint8), times_s=[0.0, 1.0])


def _report() -> Report:
    video = VideoInfo(
        path="site.mp4", size_bytes=1, container="mp4", codec="h264", width=64, height=64, fps=10.0,
        duration_s=4.0, frame_count=40,
    )  # fmt: skip
    return Report(
        video=video, verdict=Verdict.no_accident, confidence=0.85, detector="pose",
        people_max=2,
    )  # fmt: skip


@pytest.fixture
def server():
    with OpenAIStub() as stub:
        yield stub


# --- permanent and transient errors --------------------------------------------------------------


def test_unsupported_input_500_is_not_retried(server: OpenAIStub) -> None:
    server.handler = lambda request: UNSUPPORTED
    vlm = _vlm(server.base_url)
    with pytest.raises(BackendError, match="HTTP 500: image input is not supported") as info:
        vlm.generate(vlm.encode(_clip()), MESSAGES, GenerationOptions())
    assert "cannot take this request" in str(info.value) and "attempts" not in str(info.value)
    assert len(server.requests) == 1
    with pytest.raises(BackendError, match="image input is not supported"):
        list(vlm.stream(vlm.encode(_clip()), MESSAGES, GenerationOptions()))
    assert len(server.requests) == 2


def test_400_is_not_retried_and_says_what_to_check(server: OpenAIStub) -> None:
    server.handler = lambda request: error_reply(400, "model 'llava' not found")
    with pytest.raises(BackendError, match=r"HTTP 400: model 'llava' not found: check the model name") as info:
        _vlm(server.base_url).generate(None, MESSAGES, GenerationOptions())
    assert "SITEWATCH_OPENAI_API_KEY" in str(info.value)
    assert len(server.requests) == 1


def test_503_is_retried(server: OpenAIStub) -> None:
    server.queue(BUSY, BUSY)
    server.handler = lambda request: "No one fell."
    assert _vlm(server.base_url).generate(None, MESSAGES, GenerationOptions()) == "No one fell."
    assert len(server.requests) == 3


def test_503_to_the_end_says_the_server_is_failing(server: OpenAIStub) -> None:
    server.handler = lambda request: BUSY
    with pytest.raises(BackendError, match=r"failed after 3 attempts \(HTTP 503: Loading model\): the server"):
        _vlm(server.base_url).generate(None, MESSAGES, GenerationOptions())
    assert len(server.requests) == 3


# --- a model that never stops ---------------------------------------------------------------------


def test_endless_translation_is_bounded_by_max_tokens(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(endless=" and")
    translator = _translator(server.base_url)
    started = time.monotonic()
    with pytest.raises(IncompleteAnswerError, match="cut off") as info:
        translator.translate(QUESTION_KO, "ko", "en")
    [request] = server.requests
    assert request.max_tokens == max_tokens_for(QUESTION_KO) < CONTEXT_TOKENS
    assert request.body["stop"] == ["</source>"]
    assert info.value.partial.count("and") == request.max_tokens
    assert time.monotonic() - started < 5
    # Checked translation: the original question goes on, with a warning.
    kept = translate_checked(translator, QUESTION_KO, "ko", "en")
    assert kept.text == QUESTION_KO and "cut off" in (kept.warning or "")


def test_endless_stream_stops_at_max_tokens(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(endless="la ")
    vlm = _vlm(server.base_url)
    pieces: list[str] = []
    with pytest.raises(IncompleteAnswerError, match="cut off at 50 tokens") as info:
        pieces.extend(vlm.stream(None, MESSAGES, GenerationOptions(max_new_tokens=50)))
    assert server.requests[0].max_tokens == 50 and len(pieces) == 50
    assert info.value.partial == "".join(pieces)


# --- empty and cut-off answers -------------------------------------------------------------------


def test_empty_answer_is_a_warning_in_the_opinion(server: OpenAIStub) -> None:
    server.handler = lambda request: ""
    opinion = ask_model(_vlm(server.base_url), _clip(), 0.0, 1.0)
    assert opinion.accident is None and "gave an empty answer" in (opinion.error or "")
    [warning] = opinion_warnings([opinion])
    assert warning.startswith("model openai:llava@") and "empty answer" in warning


def test_cut_off_json_answer_is_a_warning_in_the_opinion(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(content='{"accident": "yes", "kind": "fall"}', finish_reason="length")
    opinion = ask_model(_vlm(server.base_url), _clip(), 0.0, 1.0)
    assert opinion.accident is True and "cut off at 200 tokens" in (opinion.error or "")


def test_stream_cut_cleanly_without_done_is_a_warning(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(content=["A worker ", "fell"], finish_reason=None, done=False)
    vlm = _vlm(server.base_url)
    with pytest.raises(IncompleteAnswerError, match=r"without \[DONE\] or a finish_reason") as info:
        list(vlm.stream(None, MESSAGES, GenerationOptions()))
    assert info.value.partial == "A worker fell"
    turn = ChatSession(_clip(), _report(), model=vlm).ask("Did anyone fall?")
    assert turn.source == "model" and turn.answer == f"A worker fell\n{language('en').t('chat_cut_off')}"
    assert "without [DONE]" in turn.warnings[0]


def test_stream_with_finish_reason_but_no_done_is_complete(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(content=["A worker ", "fell."], done=False)
    assert "".join(_vlm(server.base_url).stream(None, MESSAGES, GenerationOptions())) == "A worker fell."


# --- garbage translations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garbage", "problem"),
    [
        ("쓰러진 사람이 있습니까? 네, 두 명이 쓰러져 있습니다.", "not English"),
        ("Is anyone down? " * 50, "as long as the original"),
        ("Sure! <source>Is anyone down?</source> <source>", "leftover delimiter"),
        ("Is anyone down?<|im_end|>", "leftover delimiter <|im_end|>"),
    ],
)
def test_garbage_translation_falls_back_to_the_original(server: OpenAIStub, garbage: str, problem: str) -> None:
    server.handler = lambda request: garbage
    translation = translate_checked(_translator(server.base_url), QUESTION_KO, "ko", "en")
    assert translation.text == QUESTION_KO
    assert translation.warning is not None and problem in translation.warning


def test_garbage_question_translation_reaches_the_model_as_the_original(server: OpenAIStub) -> None:
    server.handler = lambda request: "Is anyone down? " * 50
    seen: list[str] = []

    class Model:
        name = "m"

        def encode(self, clip: VideoClip) -> None:
            return None

        def stream(self, video: object, messages: list[Message], options: GenerationOptions):
            seen.append(messages[-1].content)
            yield "Nobody is down."

    turn = ChatSession(_clip(), model=Model(), translator=_translator(server.base_url)).ask(QUESTION_KO, lang="en")
    assert seen == [QUESTION_KO] and turn.question_en == QUESTION_KO
    assert turn.answer == f"Nobody is down.\n{language('en').t('chat_question_kept')}"
    assert "not used" in turn.warnings[0]


@pytest.mark.parametrize(
    ("source", "result", "target"),
    [
        ("작업자가 비계에서 추락했습니다.", "The worker fell from height from the scaffold.", "en"),
        ("네", "Yes.", "en"),
        ("What does 안전모 mean?", "안전모는 무슨 뜻인가요?", "ko"),
        ("OK", "OK", "ko"),
        ("The worker fell from the scaffold and is lying still.", "작업자가 비계에서 떨어져 움직이지 않습니다.", "ko"),
    ],
)
def test_plausible_translations_pass_the_check(source: str, result: str, target) -> None:
    assert translation_problem(source, result, target) is None


def test_too_short_or_empty_translations_fail_the_check() -> None:
    long_source = "작업자 두 명이 비계 위에서 자재를 옮기다가 한 명이 발을 헛디뎌 아래로 추락했습니다. " * 3
    assert "characters long" in (translation_problem(long_source, "Fall.", "en") or "")
    assert translation_problem("안녕하세요", "  ", "en") == "it is empty"


def test_failed_scene_translation_keeps_the_english_with_a_warning() -> None:
    translator = _translator(f"http://127.0.0.1:{unused_port()}/v1", retries=0)
    kept = translate_or_keep(translator, "A worker walks.", "en", "ko")
    assert kept.text == "A worker walks." and "nothing listens" in (kept.warning or "")


# --- URLs and messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/chat/completions", "/chat/completions/", "/"])
def test_base_url_with_the_endpoint_path_is_not_doubled(server: OpenAIStub, suffix: str) -> None:
    server.handler = lambda request: "Is anyone down?"
    assert _translator(server.base_url + suffix).translate(QUESTION_KO, "ko", "en") == "Is anyone down?"
    _vlm(server.base_url + suffix).generate(None, MESSAGES, GenerationOptions())
    assert [r.path for r in server.requests] == ["/v1/chat/completions"] * 2


def test_refused_says_nothing_listens_and_which_setting_to_fix() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with pytest.raises(BackendError) as info:
        _translator(url, retries=0).translate(QUESTION_KO, "ko", "en")
    message = str(info.value)
    assert f"nothing listens at {url}/chat/completions" in message
    assert "start the server or fix SITEWATCH_TRANSLATE_BASE_URL" in message and "is it running" not in message


def test_timeout_says_no_answer_and_which_setting_to_raise(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(content="late", delay_s=1.0)
    started = time.monotonic()
    with pytest.raises(BackendError) as info:
        _translator(server.base_url, timeout_s=0.3, retries=0).translate(QUESTION_KO, "ko", "en")
    message = str(info.value)
    assert "no answer within 0.3 s" in message and "raise SITEWATCH_TIMEOUT_S" in message
    assert "nothing listens" not in message and "is it running" not in message
    assert time.monotonic() - started < 3


def test_stream_stalling_mid_answer_says_no_more_answer_within(server: OpenAIStub) -> None:
    server.handler = lambda request: StubReply(content=["A worker", " fell."], delay_s=1.0)
    vlm = _vlm(server.base_url, timeout_s=0.3)
    with pytest.raises(BackendError, match=r"no more of the answer within 0\.3 s.*raise SITEWATCH_TIMEOUT_S"):
        list(vlm.stream(None, MESSAGES, GenerationOptions()))
    assert len(server.requests) == 1


# --- degrade, don't discard -----------------------------------------------------------------------


def test_analyze_with_a_down_model_server_keeps_the_detector_report() -> None:
    if not SHORT_CLIP.is_file():
        pytest.skip(f"shared clip {SHORT_CLIP} is absent")
    vlm = _vlm(f"http://127.0.0.1:{unused_port()}/v1", retries=1)
    report = analyze(SHORT_CLIP, _settings(), model=vlm)
    assert report.summary["en"] and report.video.duration_s > 0 and report.model == vlm.name
    [opinion] = report.opinions
    assert opinion.accident is None and "nothing listens" in (opinion.error or "")
    assert any("nothing listens" in w and w.startswith("model openai:llava@") for w in report.warnings)


def test_analyze_asks_an_unsupported_server_once(server: OpenAIStub, tmp_path: Path) -> None:
    server.handler = lambda request: UNSUPPORTED
    video = write_video(tmp_path / "v.mp4", frames=30, fps=10)
    report = analyze(video, _settings(), model=_vlm(server.base_url))
    assert len(server.requests) == 1
    assert "image input is not supported" in report.opinions[0].error
    assert any("image input is not supported" in w for w in report.warnings)


@pytest.mark.parametrize(("question", "lang"), [("무슨 일이 있었나요?", "ko"), ("What happened?", "en")])
def test_chat_with_a_failing_model_answers_from_the_report(server: OpenAIStub, question: str, lang) -> None:
    server.handler = lambda request: UNSUPPORTED
    session = ChatSession(_clip(), _report(), model=_vlm(server.base_url))
    turn = session.ask(question)
    assert turn.source == "report" and turn.lang == lang and len(server.requests) == 1
    assert turn.answer.endswith(language(lang).t("chat_model_failed")) and "SITEWATCH_" not in turn.answer
    assert ("사고를 발견하지 못했습니다" if lang == "ko" else "found no accident") in turn.answer
    assert "image input is not supported" in turn.warnings[0] and session.history == [turn]


def test_chat_with_an_empty_model_answer_answers_from_the_report(server: OpenAIStub) -> None:
    server.handler = lambda request: [""]
    turn = ChatSession(_clip(), _report(), model=_vlm(server.base_url)).ask("What happened?")
    assert turn.source == "report" and "gave an empty answer" in turn.warnings[0]
