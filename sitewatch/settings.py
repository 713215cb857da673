"""One Settings object for the whole program, validated once, from one schema.

Sources, strongest first: CLI flags and page options (`updated`), SITEWATCH_* environment variables, a
.env file, a TOML file (SITEWATCH_CONFIG, else ./sitewatch.toml). A name sitewatch does not know, in any
of them, is an error that suggests the closest known one.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from sitewatch.errors import SettingsError
from sitewatch.text.languages import DEFAULT_LANG, Lang

log = logging.getLogger(__name__)

ENV_PREFIX = "SITEWATCH_"
CONFIG_VARIABLE = "SITEWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "sitewatch.toml"
# SITEWATCH_* variables that are not settings: read by sitewatch's own scripts, or naming the config file.
NOT_SETTINGS = frozenset({CONFIG_VARIABLE, "SITEWATCH_EXTRAS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Settings(BaseSettings):
    """Configuration read from SITEWATCH_* environment variables, a .env file and a TOML file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="forbid", validate_assignment=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags and options, then the environment, .env, and the TOML file."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings

    lang: Lang = DEFAULT_LANG
    max_pixels: int = Field(
        7680 * 4320, gt=0, description="largest frame (width x height) accepted; bigger videos are refused"
    )
    max_duration_s: float = Field(
        12 * 3600.0,
        gt=0,
        allow_inf_nan=False,
        description="longest video accepted, in seconds, measured from its packets",
    )
    max_planned_frames: int = Field(
        300_000, gt=0, description="most frames one analysis may plan to decode (duration x detector fps)"
    )
    detect_fps: float | None = Field(
        None,
        gt=0,
        le=60,
        allow_inf_nan=False,
        description="frames per second the detector looks at (its default if unset)",
    )
    detector: str = "pose"
    num_frames: int = Field(16, ge=1, le=256, description="frames given to a video-language model")

    vlm: str | None = Field(
        None, description="video-language backend, e.g. pllava-7b, hf:<id>, openai:<model>@<url>"
    )
    models: str = Field(
        "",
        description="comma-separated backends the page may offer besides SITEWATCH_VLM (names, aliases or folders)",
    )
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, mps")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="auto (bf16 on CUDA, float32 on CPU), bfloat16, float16, float32"
    )
    load_in_4bit: bool = False
    max_new_tokens: int = Field(200, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0, le=2, allow_inf_nan=False)

    translator: str = Field("none", description="none, openai, hf:<id or folder>, model")
    translate_base_url: str = "http://127.0.0.1:8000/v1"
    translate_model: str = "gpt-4o-mini"
    translate_api_key: str | None = None
    openai_api_key: str | None = Field(None, description="key for the OpenAI-compatible model server")
    openai_base_url: str | None = Field(
        None,
        description="the server SITEWATCH_OPENAI_API_KEY belongs to (default: the one in SITEWATCH_VLM); "
        "the key is sent to no other",
    )

    # The transformers backend (hf:<id or folder>).
    hf_pixel_budget: int = Field(
        16 * 448 * 448, gt=0, description="frames are downscaled until frames x height x width fits this"
    )
    hf_video_input: Literal["auto", "video", "images"] = Field(
        "auto", description="video: native video input; images: frames as images; auto: video when possible"
    )
    hf_device_map: str | None = Field(None, description="'auto' spreads the model over every GPU (accelerate)")
    hf_attn_implementation: str | None = Field(None, description="e.g. sdpa, flash_attention_2")

    # The OpenAI-compatible backend (openai:<model>@<url>).
    openai_video_input: Literal["images", "video_url"] = Field(
        "images",
        description="images: sampled frames as JPEG image_url parts (OpenAI, Ollama, llama.cpp); "
        "video_url: the clip as an MP4 data URL (vLLM, SGLang)",
    )
    openai_max_images: int = Field(16, ge=1, le=256, description="most frames sent as images")
    openai_max_side: int = Field(768, ge=16, le=4096, description="longest image side in pixels")
    openai_jpeg_quality: int = Field(85, ge=10, le=100)
    openai_video_pixel_budget: int = Field(
        32 * 640 * 360, gt=0, description="frames x height x width of an MP4 the backend encodes itself"
    )

    timeout_s: float = Field(60.0, gt=0, le=3600, allow_inf_nan=False)
    backoff_s: float = Field(0.5, ge=0, le=60, description="first retry delay; doubles on each retry")
    retries: int = Field(3, ge=0, le=10)

    upload_limit_mb: int = Field(500, gt=0)
    page_history: bool = Field(
        True, description="the page keeps each upload, its analysis and its chat in the history (false: none)"
    )
    max_question_chars: int = Field(2000, gt=0, description="longest chat question accepted, in characters")

    data_dir: Path = Field(
        Path("~/.local/share/sitewatch"), description="the history: its SQLite database, videos and report files"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the history (postgresql+psycopg://...); default: SQLite in data_dir"
    )
    api_token: SecretStr | None = Field(
        None, description="bearer token `sitewatch serve` requires; needed to bind anything but loopback"
    )
    api_workers: int | None = Field(
        None, ge=1, le=64, description="analyses `sitewatch serve` runs at once (default: one per 2 cores)"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="key of the HMAC-SHA256 signature (X-Sitewatch-Signature) on `sitewatch watch` webhooks"
    )
    webhook_retries: int = Field(4, ge=0, le=10, description="retries of a webhook that fails, with doubling pauses")
    watch_config: Path | None = Field(
        None, description="a cameras YAML file that `sitewatch serve` also watches (as `sitewatch watch --config`)"
    )

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value.strip()):
            raise ValueError("expected auto, cpu, cuda, cuda:N or mps")
        return value.strip()

    @field_validator("translator")
    @classmethod
    def _known_translator(cls, value: str) -> str:
        return known_translator(value)

    @field_validator("api_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: object) -> object:
        # An empty SITEWATCH_API_TOKEN= would bind every route behind a token nobody can send.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    # The server SITEWATCH_OPENAI_API_KEY belongs to, fixed from what the operator configured when these
    # settings were first read; `updated` carries it over, so no per-request model choice can move it.
    _openai_key_home: str | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        """Bind the OpenAI key to its server: SITEWATCH_OPENAI_BASE_URL, else the one in SITEWATCH_VLM."""
        super().model_post_init(context)
        home = self.openai_base_url
        if home is None and self.vlm and self.vlm.startswith("openai:"):
            home = self.vlm.rpartition("@")[2]
        self._openai_key_home = home

    def openai_key_for(self, base_url: str) -> str | None:
        """SITEWATCH_OPENAI_API_KEY when `base_url` is on the server it was configured for, else None."""
        if not self.openai_api_key:
            return None
        home = self._openai_key_home
        if home and _origin(home) == _origin(base_url):
            return self.openai_api_key
        log.warning(
            "not sending SITEWATCH_OPENAI_API_KEY to %s: it belongs to %s (set SITEWATCH_OPENAI_BASE_URL)",
            _origin(base_url), _origin(home) if home else "no configured server",
        )
        return None

    def offered_models(self) -> list[str]:
        """The backends an operator allows page visitors to pick: SITEWATCH_VLM and SITEWATCH_MODELS."""
        names = [self.vlm or "", *self.models.split(",")]
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def known_translator(name: str) -> str:
    """`name` when it names a registered translator backend; ValueError listing them otherwise."""
    # Checked when settings or a request are read, so a typo is refused at start, not when a model first loads.
    from sitewatch.translate.registry import TRANSLATORS

    if name.partition(":")[0] not in TRANSLATORS:
        raise ValueError(f"expected one of {', '.join(TRANSLATORS)} (openai:<model>, hf:<id or folder>)")
    return name


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(parts.scheme.lower())


def config_file() -> Path | None:
    """The TOML settings file: SITEWATCH_CONFIG, else ./sitewatch.toml when it exists."""
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsError(f"{CONFIG_VARIABLE}: {path} is not a file")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _closest(field: str, prefix: str = ENV_PREFIX) -> str:
    match = difflib.get_close_matches(field.lower(), list(Settings.model_fields), n=1, cutoff=0.6)
    if not match:
        return ""
    return f" (did you mean {prefix}{match[0].upper() if prefix else match[0]}?)"


def _unknown_variables() -> list[str]:
    """SITEWATCH_* environment variables that name no setting (typos that would otherwise pass silently)."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields} | NOT_SETTINGS
    return sorted(k for k in os.environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known)


def explain(exc: ValidationError, labels: dict[str, str] | None = None, subject: str = "setting") -> SettingsError:
    """One line naming each bad setting (as `labels` calls it, else its environment variable) and what is allowed."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        name = (labels or {}).get(field, f"{ENV_PREFIX}{field.upper()}")
        if err["type"] == "extra_forbidden":
            # Unknown environment variables are caught before; these come from a file (.env, TOML).
            problems.append(f"{field}: unknown setting in the config file{_closest(field, prefix='')}")
            continue
        allowed = err.get("ctx", {}).get("expected")
        message = err["msg"].removeprefix("Value error, ")
        what = f"expected {allowed}" if allowed else message[:1].lower() + message[1:]
        given = err.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) and len(repr(given)) < 60 else ""
        problems.append(f"{name}: {what}{shown}")
    return SettingsError(f"invalid {subject}: " + "; ".join(problems))


def updated(settings: Settings, labels: dict[str, str] | None = None, **changes: Any) -> Settings:
    """A copy of `settings` with validated changes (CLI flags, page options); bad values raise SettingsError."""
    try:
        fresh = Settings.model_validate({**settings.model_dump(), **changes})
    except ValidationError as exc:
        raise explain(exc, labels) from None
    fresh._openai_key_home = settings._openai_key_home
    return fresh


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; a bad SITEWATCH_* value raises SettingsError naming it."""
    unknown = _unknown_variables()
    if unknown:
        names = "; ".join(f"{k}: unknown setting{_closest(k[len(ENV_PREFIX):])}" for k in unknown)
        raise SettingsError(f"invalid setting: {names}")
    try:
        return Settings()
    except ValidationError as exc:
        raise explain(exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{config_file()}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line, column = _position(exc.object, exc.start)
        raise SettingsError(
            f"{config_file()}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x} at line {line}, column "
            f"{column})"
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset."""
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1
