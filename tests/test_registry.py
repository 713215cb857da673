"""Backend names: aliases, prefixes, folders, and the `sitewatch models` listing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sitewatch.errors import ModelLoadError
from sitewatch.vlm.registry import ALIASES, BACKENDS, BackendInfo, describe_backends, resolve


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hf:Qwen/Qwen2.5-VL-7B-Instruct", ("hf", "Qwen/Qwen2.5-VL-7B-Instruct")),
        ("qwen2.5-vl-7b", ("hf", "Qwen/Qwen2.5-VL-7B-Instruct")),
        ("smolvlm2", ("hf", "HuggingFaceTB/SmolVLM2-2.2B-Instruct")),
        ("openai:gpt-4o@https://api.openai.com/v1", ("openai", "gpt-4o@https://api.openai.com/v1")),
        ("openai:qwen2.5vl:7b@http://127.0.0.1:11434/v1", ("openai", "qwen2.5vl:7b@http://127.0.0.1:11434/v1")),
        ("pllava-7b", ("pllava", "ermu2001/pllava-7b")),
    ],
)
def test_resolve(name: str, expected: tuple[str, str]) -> None:
    assert resolve(name) == expected


def test_every_alias_names_a_backend() -> None:
    for alias, full in ALIASES.items():
        backend, target = resolve(alias)
        assert backend in BACKENDS and target, alias
        assert f"{backend}:{target}" == full


def test_folders(tmp_path: Path) -> None:
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    assert resolve(str(hf)) == ("hf", str(hf))
    pllava = tmp_path / "pllava"
    pllava.mkdir()
    (pllava / "config.json").write_text(json.dumps({"pooling_shape": [16, 12, 12]}))
    assert resolve(str(pllava))[0] == "pllava"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        resolve(str(empty))


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ModelLoadError, match=r"qwen2\.5-vl-7b"):
        resolve("no-such-model")


def test_describe_backends() -> None:
    rows = describe_backends()
    assert all(isinstance(row, BackendInfo) for row in rows)
    names = [row.name for row in rows]
    assert {"pllava", "hf", "openai", *ALIASES} == set(names)
    by_name = {row.name: row for row in rows}
    assert by_name["openai"].target == "openai:<model>@<base url>"
    assert by_name["openai"].extra == "openai"
    assert by_name["qwen3-vl-8b"].target == "hf:Qwen/Qwen3-VL-8B-Instruct"
    assert by_name["qwen3-vl-8b"].extra == "vlm"
    assert all(isinstance(row.installed, bool) and row.needs for row in rows)


def test_registry_import_stays_light() -> None:
    code = (
        "import sys; import sitewatch.vlm.registry as r; r.describe_backends(); "
        "print(sorted(m for m in ('torch', 'transformers', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
