"""PLLaVA backend on tiny random checkpoints built in the original released layout."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from safetensors import safe_open  # noqa: E402

from sitewatch.errors import BackendError, ModelLoadError  # noqa: E402
from sitewatch.schema import (  # noqa: E402
    GenerationOptions,
    Message,
    VideoClip,
)
from sitewatch.settings import Settings  # noqa: E402
from sitewatch.video.sample import pllava_indices  # noqa: E402
from sitewatch.vlm.base import VideoLM  # noqa: E402
from sitewatch.vlm.generation import cut_at_stop  # noqa: E402
from sitewatch.vlm.pllava import backend as pllava_backend  # noqa: E402
from sitewatch.vlm.pllava.backend import PllavaBackend, load  # noqa: E402
from sitewatch.vlm.pllava.config import read_config  # noqa: E402
from sitewatch.vlm.pllava.convert import convert  # noqa: E402
from sitewatch.vlm.pllava.modeling import PllavaMultiModalProjector  # noqa: E402
from sitewatch.vlm.pllava.processing import (  # noqa: E402
    expand_image_token,
    preprocess_frames,
)
from sitewatch.vlm.pllava.prompts import (  # noqa: E402
    CHATML,
    DEFAULT_SYSTEM_PROMPT,
    PLAIN,
    render,
    settle_image_token_id,
    template_for,
    trim_history,
)
from sitewatch.vlm.pllava.weights import convert_state_dict, weight_files  # noqa: E402
from tests.pllava_tiny import (  # noqa: E402
    LORA_RANK,
    NUM_FRAMES,
    TOKENS_PER_VIDEO,
    build_tokenizer,
    released_tensors,
    write_release,
)

PEFT = "language_model.base_model.model."
QUESTION = [Message(role="user", content="What is the man doing?")]
# A short system prompt keeps the tiny model's prompts short (the demo prompt is ~400 byte-level tokens).
CHAT = [Message(role="system", content="Watch the video."), *QUESTION]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_release(tmp_path_factory.mktemp("pllava") / "release")


@pytest.fixture(scope="module")
def backend(release: Path) -> PllavaBackend:
    return load(str(release), Settings(device="cpu", dtype="auto"))


@pytest.fixture(scope="module")
def clip() -> VideoClip:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(12, 48, 80, 3), dtype=np.uint8)
    return VideoClip(frames=frames, times_s=[i / 4 for i in range(12)], source="random")


@pytest.fixture(scope="module")
def video(backend: PllavaBackend, clip: VideoClip) -> object:
    return backend.encode(clip)


# Prompts ---------------------------------------------------------------------------------------------------


def test_system_prompt_is_byte_exact() -> None:
    lines = DEFAULT_SYSTEM_PROMPT.split("\n")
    assert len(lines) == 7 and lines[-1] == ""
    assert lines[0] == "You are a powerful Video Magic ChatBot, a large vision-language assistant. "
    assert lines[3] == "### INSTRUCTIONS:"
    assert lines[5] == "2. Be critical yet believe in yourself."


def test_plain_template_renders_like_the_demo() -> None:
    first = render(PLAIN, QUESTION)
    assert first == DEFAULT_SYSTEM_PROMPT + " USER:<image>  USER:What is the man doing? ASSISTANT:"
    second = render(
        PLAIN,
        [*QUESTION, Message(role="assistant", content="The man is dancing."), Message(role="user", content="Why?")],
    )
    assert second == first + " The man is dancing.</s>USER:Why? ASSISTANT:"


def test_chatml_template_renders_like_the_demo() -> None:
    expected = (
        DEFAULT_SYSTEM_PROMPT + "<|im_end|>\n<|im_start|>user\n<image>\n<|im_end|>\n<|im_start|>user\n<|im_end|>\n"
        "<|im_start|>user\nWhat is the man doing?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert render(CHATML, QUESTION) == expected
    custom = render(CHATML, [Message(role="system", content="Be brief."), *QUESTION])
    assert custom.startswith("Be brief.<|im_end|>\n<|im_start|>user\n<image>\n")


def test_template_choice_and_image_token_id(caplog: pytest.LogCaptureFixture) -> None:
    plain, chatml = build_tokenizer(), build_tokenizer(chatml=True)
    assert template_for(plain) is PLAIN
    assert template_for(chatml) is CHATML
    image_id = chatml.convert_tokens_to_ids("<image>")
    assert settle_image_token_id(chatml, image_id) == image_id
    with caplog.at_level(logging.WARNING):
        assert settle_image_token_id(chatml, image_id + 2) == image_id
    assert "differs from the tokenizer" in caplog.text


def test_trim_history_keeps_the_last_question() -> None:
    history = []
    for i in range(4):
        history += [Message(role="user", content=f"q{i}"), Message(role="assistant", content=f"a{i}")]
    history.append(Message(role="user", content="last"))
    kept = trim_history(history, lambda ms: len(ms) <= 3)
    assert [m.content for m in kept] == ["q3", "a3", "last"]
    with pytest.raises(BackendError, match="too long"):
        trim_history(history, lambda ms: False)


def test_stop_strings_cut_exactly() -> None:
    assert cut_at_stop("yes</s>", ["</s>"]) == ("yes", True)
    assert cut_at_stop("it is glass", ["</s>"]) == ("it is glass", False)
    assert cut_at_stop("a USER b ###", ["###", "USER"]) == ("a ", True)


# Frames, pooling, placeholder -------------------------------------------------------------------------------


def test_preprocess_resizes_short_side_and_centre_crops() -> None:
    frame = np.zeros((56, 112, 3), dtype=np.uint8)
    frame[:, 28:84] = 255
    pixels = preprocess_frames(frame[None], 56)
    assert pixels.shape == (1, 3, 56, 56)
    white = (1.0 - 0.48145466) / 0.26862954
    assert torch.allclose(pixels[0, 0], torch.full((56, 56), white), atol=1e-5)
    assert preprocess_frames(np.zeros((3, 30, 20, 3), dtype=np.uint8), 56).shape == (3, 3, 56, 56)


def test_placeholder_expansion() -> None:
    assert expand_image_token([1, 5, 9, 2], 9, 3) == [1, 5, 9, 9, 9, 2]
    with pytest.raises(BackendError, match="found 0"):
        expand_image_token([1, 2], 9, 3)
    with pytest.raises(BackendError, match="found 2"):
        expand_image_token([9, 9], 9, 3)


def test_pooling_after_projector_in_t_h_w_order(release: Path) -> None:
    config = read_config(release)
    projector = PllavaMultiModalProjector(config).eval()
    features = torch.randn(1, NUM_FRAMES, 16, config.vision_config.hidden_size)
    with torch.no_grad():
        pooled = projector(features)
        hidden = projector.linear_2(projector.act(projector.linear_1(features)))[0].view(NUM_FRAMES, 4, 4, -1)
    assert pooled.shape == (1, TOKENS_PER_VIDEO, config.text_config.hidden_size)
    expected = [
        hidden[t, 2 * h : 2 * h + 2, 2 * w : 2 * w + 2].mean((0, 1))
        for t in range(4)
        for h in range(2)
        for w in range(2)
    ]
    assert torch.allclose(pooled[0], torch.stack(expected), atol=1e-6)


def test_images_are_tiled_and_short_clips_padded(backend: PllavaBackend, clip: VideoClip) -> None:
    image = backend.encode(VideoClip(frames=clip.frames[:1], times_s=[0.0], is_image=True))
    per_frame = image.features.view(NUM_FRAMES, 4, -1)
    assert torch.allclose(per_frame, per_frame[:1].expand_as(per_frame))
    short = backend.encode(VideoClip(frames=clip.frames[:2], times_s=[0.0, 0.25]))
    repeated = backend.encode(VideoClip(frames=clip.frames[[0, 0, 1, 1]], times_s=[0.0] * 4))
    assert short.features.shape == (TOKENS_PER_VIDEO, 64)
    assert torch.allclose(short.features, repeated.features, atol=1e-5)


# Weights ---------------------------------------------------------------------------------------------------


def test_lora_merge_arithmetic(release: Path) -> None:
    raw = released_tensors()
    stem = PEFT + "model.layers.1.self_attn.v_proj"
    base, a, b = (
        raw[f"{stem}.{part}"] for part in ("base_layer.weight", "lora_A.default.weight", "lora_B.default.weight")
    )
    assert a.shape[0] == LORA_RANK
    for alpha in (4.0, 32.0):
        tensors, _ = convert_state_dict(weight_files(release), alpha, None)
        merged = tensors["model.language_model.layers.1.self_attn.v_proj.weight"]
        assert torch.allclose(merged, base + alpha / LORA_RANK * (b @ a), atol=1e-6)
    assert "lm_head.weight" in tensors
    assert "model.vision_tower.encoder.layers.0.mlp.fc1.weight" in tensors
    assert not any("lora" in name or "base_layer" in name for name in tensors)


def test_plain_llava_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llava"}))
    with pytest.raises(ModelLoadError, match="not a PLLaVA checkpoint"):
        read_config(tmp_path)


def test_missing_weight_fails_naming_it(tmp_path: Path) -> None:
    folder = write_release(tmp_path / "m", drop="multi_modal_projector.linear_2.bias")
    pattern = r"missing .*model-00001-of-00002\.safetensors.*'multi_modal_projector\.linear_2\.bias'"
    with pytest.raises(ModelLoadError, match=pattern):
        load(str(folder), Settings(device="cpu"))


def test_half_a_lora_fails_naming_the_layer(tmp_path: Path) -> None:
    folder = write_release(tmp_path / "l", drop=PEFT + "model.layers.0.self_attn.q_proj.lora_B.default.weight")
    with pytest.raises(ModelLoadError, match=r"incomplete LoRA layer .*layers\.0\.self_attn\.q_proj"):
        load(str(folder), Settings(device="cpu"))


def test_unused_weight_fails_naming_file_and_key(tmp_path: Path) -> None:
    folder = write_release(tmp_path / "u", extra="language_model.base_model.model.model.layers.0.mystery.weight")
    with pytest.raises(ModelLoadError, match=r"model-0000\d-of-00002\.safetensors.*layers\.0\.mystery"):
        load(str(folder), Settings(device="cpu"))
    folder = write_release(tmp_path / "v", extra="something_else.weight")
    with pytest.raises(ModelLoadError, match=r"does not use: model-0000\d-of-00002\.safetensors: something_else"):
        load(str(folder), Settings(device="cpu"))


def test_missing_folder_and_unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelLoadError, match=r"no PLLaVA model folder at .*nowhere"):
        load(str(tmp_path / "nowhere" / "pllava"), Settings(device="cpu"))

    def offline(*args: object, **kwargs: object) -> str:
        raise OSError("hub unreachable")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(ModelLoadError, match="could not get 'ermu2001/pllava-7b' from the Hugging Face hub"):
        load("ermu2001/pllava-7b", Settings(device="cpu"))


def test_converted_folder_gives_the_same_logits(backend: PllavaBackend, release: Path, tmp_path: Path) -> None:
    result = convert(release, tmp_path / "converted")
    assert "LoRA merged with alpha 4.0" in str(result)
    out = tmp_path / "converted"
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "pllava" and "use_cc" not in config
    assert {"tokenizer.json", "tokenizer_config.json", "added_tokens.json"} <= {p.name for p in out.iterdir()}
    with safe_open(str(out / "model.safetensors"), framework="pt") as handle:
        assert "model.language_model.layers.0.self_attn.q_proj.weight" in set(handle.keys())
    converted = load(str(out), Settings(device="cpu"))
    ids = torch.tensor([backend.prompt_ids(CHAT, 10)])
    pixels = preprocess_frames(np.random.default_rng(1).integers(0, 256, (4, 56, 56, 3), dtype=np.uint8), 56)
    with torch.no_grad():
        original = backend.model(input_ids=ids, pixel_values=pixels).logits
        again = converted.model(input_ids=ids, pixel_values=pixels).logits
    assert original.shape[-1] == 320  # padded vocabulary rows are kept, never cut to the tokenizer size
    assert torch.allclose(original, again, atol=1e-5)
    with pytest.raises(ModelLoadError, match="not empty"):
        convert(release, out)
    convert(release, tmp_path / "half", dtype="bfloat16")
    with safe_open(str(tmp_path / "half" / "model.safetensors"), framework="pt") as handle:
        assert handle.get_tensor("lm_head.weight").dtype == torch.bfloat16


# Generation ------------------------------------------------------------------------------------------------


def test_backend_is_a_videolm(backend: PllavaBackend) -> None:
    assert isinstance(backend, VideoLM)
    assert backend.config.image_token_id == backend.tokenizer.convert_tokens_to_ids("<image>")


def test_cached_features_match_the_full_forward(backend: PllavaBackend, video: object, clip: VideoClip) -> None:
    ids = torch.tensor([backend.prompt_ids(CHAT, 10)])
    pixels = preprocess_frames(clip.frames[pllava_indices(12, NUM_FRAMES)], 56)
    with torch.no_grad():
        full = backend.model(input_ids=ids, pixel_values=pixels).logits
        cached = backend.model(inputs_embeds=backend.model.embed_with_video(ids, video.features)).logits
    assert torch.allclose(full, cached, atol=1e-5)
    with torch.no_grad():
        native = backend.model.generate(input_ids=ids, pixel_values=pixels, max_new_tokens=6, do_sample=False)
    kwargs = backend._generate_kwargs(video, CHAT, GenerationOptions(max_new_tokens=6))
    with torch.no_grad():
        ours = backend.model.generate(**kwargs)
    assert native[0, ids.shape[1] :].tolist() == ours[0, ids.shape[1] :].tolist()


def test_second_turn_reuses_the_features(backend: PllavaBackend, video: object) -> None:
    calls = []
    hook = backend.model.model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    try:
        options = GenerationOptions(max_new_tokens=5)
        first = backend.generate(video, CHAT, options)
        turns = [*CHAT, Message(role="assistant", content=first), Message(role="user", content="Why?")]
        backend.generate(video, turns, options)
    finally:
        hook.remove()
    assert calls == []


def test_text_only_requests_are_refused_clearly(backend: PllavaBackend) -> None:
    with pytest.raises(BackendError, match="translator"):
        backend.generate(None, CHAT, GenerationOptions(max_new_tokens=5))


def test_stream_gives_the_same_text(backend: PllavaBackend, video: object) -> None:
    options = GenerationOptions(max_new_tokens=12)
    text = backend.generate(video, CHAT, options)
    pieces = list(backend.stream(video, CHAT, options))
    assert len(text) > 0 and "".join(pieces) == text
    assert backend.generate(video, CHAT, GenerationOptions(max_new_tokens=12, num_beams=2))


def test_stop_string_ends_the_answer(backend: PllavaBackend, video: object) -> None:
    text = backend.generate(video, CHAT, GenerationOptions(max_new_tokens=12))
    stop = next(ch for ch in text[2:] if ch.isascii() and ch.isalnum() and ch not in text[:2])
    expected = text[: text.index(stop)].strip()
    options = GenerationOptions(max_new_tokens=12, stop=[stop])
    assert backend.generate(video, CHAT, options) == expected
    assert "".join(backend.stream(video, CHAT, options)) == expected


def test_sampling_takes_effect_and_is_seeded(backend: PllavaBackend, video: object) -> None:
    greedy = backend.generate(video, CHAT, GenerationOptions(max_new_tokens=8))
    hot = GenerationOptions(max_new_tokens=8, do_sample=True, temperature=3.0, top_p=1.0, seed=7)
    assert backend.generate(video, CHAT, hot) == backend.generate(video, CHAT, hot)
    samples = {
        backend.generate(
            video, CHAT, GenerationOptions(max_new_tokens=8, do_sample=True, temperature=3.0, top_p=1.0, seed=s)
        )
        for s in range(3)
    }
    assert samples != {greedy}
    penalised = GenerationOptions(max_new_tokens=8, repetition_penalty=50.0)
    assert backend.generate(video, CHAT, penalised) != greedy
    narrow = GenerationOptions(max_new_tokens=8, do_sample=True, temperature=1.0, top_p=1e-6, seed=3)
    assert backend.generate(video, CHAT, narrow) == greedy


def test_long_history_is_trimmed_to_the_context(backend: PllavaBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    history = []
    for i in range(6):
        history += [Message(role="user", content=f"question {i} " * 20), Message(role="assistant", content="ok " * 20)]
    history.append(Message(role="user", content="last question"))
    full = len(backend.prompt_ids(history, 10))
    monkeypatch.setattr(backend.config.text_config, "max_position_embeddings", full - 50)
    trimmed = backend.prompt_ids(history, 10)
    assert len(trimmed) + 10 <= full - 50
    assert backend.tokenizer.decode(trimmed).rstrip().endswith("last question ASSISTANT:")


def test_chatml_backend_stops_on_im_end(backend: PllavaBackend) -> None:
    chat = PllavaBackend(backend.model, build_tokenizer(chatml=True), name="pllava:chatml")
    assert chat.template is CHATML
    assert chat.tokenizer.convert_tokens_to_ids("<|im_end|>") in chat.eos_ids


def test_registry_import_stays_light() -> None:
    code = "import sys, sitewatch.vlm.registry, sitewatch.vlm.pllava; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert pllava_backend.load is load
