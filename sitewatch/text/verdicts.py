"""Verdicts as people type them: the codes and every language's labels, in any case."""

from __future__ import annotations

from sitewatch.schema import Verdict
from sitewatch.text.languages import LANGUAGES


def _normal(word: str) -> str:
    return " ".join(word.replace("_", " ").split()).casefold()


def verdict_words() -> list[str]:
    """Every word that names a verdict: the codes, then each language's labels."""
    words = [v.value for v in Verdict]
    for language in LANGUAGES.values():
        words += [label for label in language.verdicts.values() if label not in words]
    return words


def parse_verdict(word: str) -> Verdict | None:
    """The verdict `word` names ("사고 의심", "possible accident", "UNCERTAIN"), or None for an unknown word."""
    names = {_normal(v.value): v for v in Verdict}
    for language in LANGUAGES.values():
        names.update({_normal(label): v for v, label in language.verdicts.items()})
    return names.get(_normal(word))
