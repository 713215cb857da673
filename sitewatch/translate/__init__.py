"""Korean ⇄ English translation around the chat model, with a safety-term glossary."""

from sitewatch.translate.base import Lang, Translator
from sitewatch.translate.detect import detect_language
from sitewatch.translate.registry import load_translator

__all__ = ["Lang", "Translator", "detect_language", "load_translator"]
