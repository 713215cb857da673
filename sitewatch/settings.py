"""One Settings object for the whole program: environment (SITEWATCH_*) first, CLI flags override."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from SITEWATCH_* environment variables (and a .env file if present)."""

    model_config = SettingsConfigDict(env_prefix="SITEWATCH_", env_file=".env", extra="ignore")

    lang: Literal["ko", "en"] = "ko"
    max_pixels: int = Field(
        7680 * 4320, description="largest frame (width x height) accepted; bigger videos are refused"
    )
    detect_fps: float | None = Field(None, description="frames per second the detector looks at (its default if unset)")
    detector: str = "pose"
    num_frames: int = Field(16, description="frames given to a video-language model")

    vlm: str | None = Field(
        None, description="video-language backend, e.g. pllava-7b, hf:<id>, openai:<model>@<url>"
    )
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, mps")
    dtype: str = Field("auto", description="auto (bf16 on CUDA, float32 on CPU), bfloat16, float16, float32")
    load_in_4bit: bool = False
    max_new_tokens: int = 200
    temperature: float = 0.0

    translator: str = Field("none", description="none, openai, hf:<id or folder>, model")
    translate_base_url: str = "http://127.0.0.1:8000/v1"
    translate_model: str = "gpt-4o-mini"
    translate_api_key: str | None = None
    openai_api_key: str | None = Field(None, description="key for OpenAI-compatible model servers")

    timeout_s: float = 60.0
    retries: int = 3

    upload_limit_mb: int = 500


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
