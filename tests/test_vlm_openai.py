"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("httpx")

from openai_stub import OpenAIStub, StubReply, error_reply, unused_port
from PIL import Image

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.settings import Settings
from sitewatch.vlm.base import VideoLM
from sitewatch.vlm.openai import load, parse_target
from sitewatch.vlm.registry import load_backend, resolve

ANSWER = "A worker fell from the ladder."
# Streamed in pieces; joined into ANSWER when the client does not ask to stream.
ANSWER_PIECES = ["A worker", " fell from", " the ladder."]
BUSY = error_reply(503, "busy, try again")

MESSAGES = [
    Message(role="system", content="You watch construction site videos."),
    Message(role="user", content="Did anyone fall?"),
]


def _settings(**kwargs) -> Settings:
    base = {"openai_api_key": "sk-test", "timeout_s": 5.0, "retries": 2, "backoff_s": 0.01, "_env_file": None}
    return Settings(**{**base, **kwargs})


def _clip(count: int = 12, source: str = "") -> VideoClip:
    frames = np.zeros((count, 120, 200, 3), dtype=np.uint8)
    for i in range(count):
        frames[i, :, (i * 15) % 200 :] = 200
    return VideoClip(frames=frames, times_s=[0.25 * i for i in range(count)], source=source)


def _image_of(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


@pytest.fixture
def stub():
    with OpenAIStub(lambda request: ANSWER_PIECES) as server:
        yield server


def _backend(stub: OpenAIStub, settings: Settings | None = None, **options):
    settings = settings or _settings(openai_base_url=stub.base_url)
    settings = settings.model_copy(update={f"openai_{k}": v for k, v in options.items()})
    return load(f"qwen2.5-vl@{stub.base_url}", settings)


def test_the_key_goes_only_to_the_server_it_was_configured_for(stub: OpenAIStub) -> None:
    with OpenAIStub(lambda request: ANSWER_PIECES) as other:
        # Configured for `other`; the model points at `stub`: stub must never see the key.
        backend = _backend(stub, _settings(openai_base_url=other.base_url))
        assert backend.generate(None, MESSAGES, GenerationOptions(max_new_tokens=8))
        assert "authorization" not in stub.requests[-1].headers
        home = _backend(other, _settings(openai_base_url=other.base_url + "/"))
        home.generate(None, MESSAGES, GenerationOptions(max_new_tokens=8))
        assert other.requests[-1].headers["authorization"] == "Bearer sk-test"
    via_vlm = _settings(vlm=f"openai:qwen2.5-vl@{stub.base_url}")
    assert via_vlm.openai_key_for(stub.base_url) == "sk-test"
    assert via_vlm.openai_key_for(stub.base_url.replace("127.0.0.1", "localhost")) is None
    assert _settings().openai_key_for(stub.base_url) is None


def test_registry_resolves_and_loads(stub: OpenAIStub) -> None:
    name = f"openai:qwen2.5-vl@{stub.base_url}"
    assert resolve(name) == ("openai", f"qwen2.5-vl@{stub.base_url}")
    backend = load_backend(name, _settings())
    assert isinstance(backend, VideoLM)
    assert backend.generate(backend.encode(_clip(2)), MESSAGES, GenerationOptions()) == ANSWER


def test_images_mode_request_body(stub: OpenAIStub) -> None:
    backend = _backend(stub, max_images=5, max_side=64)
    answer = backend.generate(backend.encode(_clip()), MESSAGES, GenerationOptions(max_new_tokens=50))
    assert answer == ANSWER
    request = stub.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == "qwen2.5-vl"
    assert body["stream"] is False
    assert body["max_tokens"] == 50
    assert body["temperature"] == 0.0
    assert body["messages"][0] == {"role": "system", "content": MESSAGES[0].content}
    parts = body["messages"][1]["content"]
    images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(images) == 5
    assert all(max(_image_of(url).size) <= 64 for url in images)
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert texts[0] == "0.0s:" and texts[-1] == MESSAGES[1].content
    assert "2.8s:" in texts  # the last frame is always kept


def test_text_only_question_sends_no_media(stub: OpenAIStub) -> None:
    backend = _backend(stub)
    assert backend.generate(None, MESSAGES, GenerationOptions()) == ANSWER
    assert stub.requests[-1].body["messages"][1] == {
        "role": "user",
        "content": [{"type": "text", "text": MESSAGES[1].content}],
    }


def test_stream_yields_pieces(stub: OpenAIStub) -> None:
    backend = _backend(stub)
    pieces = list(backend.stream(backend.encode(_clip(3)), MESSAGES, GenerationOptions()))
    assert len(pieces) > 1
    assert "".join(pieces) == ANSWER
    assert stub.requests[-1].body["stream"] is True


def test_video_url_mode_encodes_mp4(stub: OpenAIStub) -> None:
    import av

    backend = _backend(stub, video_input="video_url")
    backend.generate(backend.encode(_clip(6)), MESSAGES, GenerationOptions())
    parts = stub.requests[-1].body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["video_url", "text"]
    url = parts[0]["video_url"]["url"]
    assert url.startswith("data:video/mp4;base64,")
    with av.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as container:
        assert len(list(container.decode(video=0))) == 6


def test_video_url_mode_sends_the_source_file(stub: OpenAIStub, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"original mp4 bytes")
    backend = _backend(stub, video_input="video_url")
    backend.generate(backend.encode(_clip(4, source=str(source))), MESSAGES, GenerationOptions())
    url = stub.requests[-1].body["messages"][1]["content"][0]["video_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]) == b"original mp4 bytes"


def test_no_key_no_auth_header(stub: OpenAIStub) -> None:
    backend = _backend(stub, _settings(openai_api_key=None))
    backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())
    assert "authorization" not in stub.requests[-1].headers


def test_retries_5xx_then_succeeds(stub: OpenAIStub) -> None:
    stub.queue(BUSY, BUSY)
    backend = _backend(stub)
    assert backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions()) == ANSWER
    assert len(stub.requests) == 3


def test_retries_429_when_streaming(stub: OpenAIStub) -> None:
    stub.queue(error_reply(429, "busy, try again"))
    backend = _backend(stub)
    assert "".join(backend.stream(backend.encode(_clip(1)), MESSAGES, GenerationOptions())) == ANSWER


def test_4xx_is_a_backend_error_with_the_server_message(stub: OpenAIStub) -> None:
    stub.handler = lambda request: error_reply(404, "model 'nope' does not exist")
    backend = _backend(stub)
    with pytest.raises(BackendError, match=r"404.*does not exist"):
        backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())
    assert len(stub.requests) == 1  # a 4xx is not retried
    with pytest.raises(BackendError, match="does not exist"):
        list(backend.stream(backend.encode(_clip(1)), MESSAGES, GenerationOptions()))


def test_5xx_after_retries_is_a_backend_error(stub: OpenAIStub) -> None:
    stub.handler = lambda request: BUSY
    backend = _backend(stub)
    with pytest.raises(BackendError, match=r"503.*busy"):
        backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())
    assert len(stub.requests) == 3


@pytest.mark.parametrize("garbage", ["<html>oops</html>", '{"id": "x"}', '{"choices": []}'])
def test_garbage_answer(stub: OpenAIStub, garbage: str) -> None:
    stub.handler = lambda request: StubReply(raw=garbage)
    backend = _backend(stub)
    with pytest.raises(BackendError, match="not a chat completion"):
        backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())


def test_server_down_after_retries() -> None:
    base_url = f"http://127.0.0.1:{unused_port()}/v1"
    backend = load(f"m@{base_url}", _settings())
    with pytest.raises(BackendError, match="nothing listens at"):
        backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())
    with pytest.raises(BackendError, match="nothing listens at"):
        list(backend.stream(backend.encode(_clip(1)), MESSAGES, GenerationOptions()))


def test_slow_server_times_out(stub: OpenAIStub) -> None:
    stub.handler = lambda request: StubReply(content=ANSWER, delay_s=1.0)
    backend = _backend(stub, _settings(timeout_s=0.2, retries=1))
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"no answer within 0\.2 s"):
        backend.generate(backend.encode(_clip(1)), MESSAGES, GenerationOptions())
    assert time.monotonic() - started < 3
    assert len(stub.requests) == 2


def test_generation_options_reach_the_server(stub: OpenAIStub) -> None:
    backend = _backend(stub)
    options = GenerationOptions(do_sample=True, temperature=0.7, top_p=0.8, stop=["\n"], seed=3)
    backend.generate(backend.encode(_clip(1)), MESSAGES, options)
    body = stub.requests[-1].body
    assert (body["temperature"], body["top_p"], body["stop"], body["seed"]) == (0.7, 0.8, ["\n"], 3)
    assert "repetition_penalty" not in body


@pytest.mark.parametrize("target", ["model-only", "m@ftp://x", "@http://127.0.0.1/v1"])
def test_bad_target(target: str) -> None:
    with pytest.raises(ModelLoadError, match="<model>@<base url>"):
        parse_target(target)
