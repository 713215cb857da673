"""The `hf` translator: local machine-translation models through transformers (NLLB-200, M2M-100, Marian).

Spec: `hf` (NLLB-200 distilled 600M), `hf:<id or folder>` for a multilingual model, or one Marian
model per direction, `hf:Helsinki-NLP/opus-mt-ko-en,<en-ko model>`. A Marian model's direction is read
from its name ("ko-en", "en-ko"); name it explicitly as `ko-en=<folder>` when the name does not say.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.optional import require
from sitewatch.translate.base import Lang, TextModel
from sitewatch.translate.glossary import fix_terms

if TYPE_CHECKING:
    from sitewatch.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"

Direction = tuple[Lang, Lang]

# Multilingual families, told apart by the language token the tokenizer knows: for each language,
# the tokenizer's `src_lang` value and the token generation must start with.
NLLB_CODES: dict[str, tuple[str, str]] = {"ko": ("kor_Hang", "kor_Hang"), "en": ("eng_Latn", "eng_Latn")}
M2M_CODES: dict[str, tuple[str, str]] = {"ko": ("ko", "__ko__"), "en": ("en", "__en__")}
DIRECTIONS: dict[str, Direction] = {"ko-en": ("ko", "en"), "en-ko": ("en", "ko")}

_DIRECTION = re.compile(r"(?<![a-z])(ko-en|en-ko)(?![a-z])", re.IGNORECASE)


@dataclass
class _Loaded:
    """One loaded model, the directions it serves and, for multilingual ones, its language codes."""

    source: str
    tokenizer: Any
    model: Any
    codes: dict[str, tuple[str, str]] | None


def _knows(tokenizer: Any, token: str) -> bool:
    """Whether `token` is one token of the tokenizer's vocabulary (language codes included)."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    return token_id is not None and token_id != tokenizer.unk_token_id


def _check_exists(name: str) -> None:
    """Refuse a path that does not exist now, instead of letting it pass as a hub id."""
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"translation model {name} is a file; give the model's folder")
        return
    looks_local = name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or "\\" in name
    if looks_local:
        raise ModelLoadError(f"translation model folder {name} does not exist")


class HFTranslator:
    """Translates with local seq2seq models; lines are translated as one batch."""

    name = "hf"

    def __init__(
        self, models: list[str] | None = None, device: str = "cpu", max_new_tokens: int = 512
    ) -> None:
        self.device = device
        self.max_new_tokens = max_new_tokens
        self._by_direction: dict[Direction, _Loaded] = {}
        for spec in models or [DEFAULT_MODEL]:
            self._add(spec.strip())

    def _add(self, spec: str) -> None:
        explicit, sep, name = spec.partition("=")
        if not sep:
            explicit, name = "", spec
        _check_exists(name)
        loaded = self._load(name)
        if loaded.codes is not None and not explicit:
            self._by_direction.setdefault(("ko", "en"), loaded)
            self._by_direction.setdefault(("en", "ko"), loaded)
            return
        match = _DIRECTION.search(explicit or Path(name).name)
        if match is None:
            raise ModelLoadError(
                f"cannot tell which way {name} translates: write ko-en={name} or en-ko={name}"
            )
        self._by_direction[DIRECTIONS[match.group(1).lower()]] = loaded

    def _load(self, name: str) -> _Loaded:
        transformers = require("transformers", "vlm")
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(name)
            model = transformers.AutoModelForSeq2SeqLM.from_pretrained(name)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"could not load translation model {name}: {exc}") from exc
        model.to(self.device).eval()
        families = (NLLB_CODES, M2M_CODES)
        codes = next((c for c in families if all(_knows(tokenizer, t) for _, t in c.values())), None)
        log.info("loaded translation model %s (%s)", name, "multilingual" if codes else "one direction")
        return _Loaded(name, tokenizer, model, codes)

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Translate `text` line by line (blank lines kept) and fix glossary terms."""
        if source == target or not text.strip():
            return text
        lines = text.split("\n")
        filled = [i for i, line in enumerate(lines) if line.strip()]
        outputs = self.translate_batch([lines[i] for i in filled], source, target)
        for i, output in zip(filled, outputs, strict=True):
            lines[i] = output
        return "\n".join(lines)

    def translate_batch(self, texts: list[str], source: Lang, target: Lang) -> list[str]:
        """Translate several texts with one `generate` call."""
        if not texts:
            return []
        loaded = self._by_direction.get((source, target))
        if loaded is None:
            have = ", ".join(f"{s}->{t}" for s, t in self._by_direction) or "none"
            raise BackendError(f"no translation model for {source}->{target} (loaded: {have})")
        torch = require("torch", "vlm")
        tokenizer, kwargs = loaded.tokenizer, {}
        if loaded.codes is not None:
            tokenizer.src_lang = loaded.codes[source][0]
            kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(loaded.codes[target][1])
        batch = tokenizer(texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        # Room for a translation up to twice as long as its source, within the configured cap.
        max_new = min(self.max_new_tokens, 2 * batch["input_ids"].shape[1] + 16)
        with torch.inference_mode():
            generated = loaded.model.generate(**batch, max_new_tokens=max_new, num_beams=1, **kwargs)
        outputs = tokenizer.batch_decode(generated, skip_special_tokens=True)
        return [fix_terms(src, out.strip(), source, target) for src, out in zip(texts, outputs, strict=True)]


def _device(settings: Settings) -> str:
    if settings.device != "auto":
        return settings.device
    torch = require("torch", "vlm")
    return "cuda" if torch.cuda.is_available() else "cpu"


def load(target: str, settings: Settings, vlm: TextModel | None = None) -> HFTranslator:
    """Build the translator from `hf:<spec>[,<spec>]` (NLLB-200 distilled 600M when empty)."""
    models = [part for part in target.split(",") if part.strip()] if target else None
    return HFTranslator(models, device=_device(settings))
