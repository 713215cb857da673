"""Safety terms that must translate the same way every time, in both directions.

The LLM translators get the table in their prompt; machine-translation output is checked afterwards,
and a known wrong rendering of a term the source used is replaced by the glossary's term.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sitewatch.translate.base import Lang

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Term:
    """One glossary entry: the canonical Korean and English, and the other wordings around them."""

    ko: str
    en: str
    ko_match: tuple[str, ...] = ()  # other Korean forms (stems, synonyms) that mean this term in a source
    en_match: tuple[str, ...] = ()  # other English forms that mean this term in a source
    ko_fix: tuple[str, ...] = ()  # Korean renderings an MT model gives that are replaced by `ko`
    en_fix: tuple[str, ...] = ()  # English renderings an MT model gives that are replaced by `en`

    def canonical(self, lang: Lang) -> str:
        """The glossary's word for this term in `lang`."""
        return self.ko if lang == "ko" else self.en

    def forms(self, lang: Lang) -> tuple[str, ...]:
        """Every wording that shows this term is present in a `lang` text."""
        if lang == "ko":
            return (self.ko, *self.ko_match, *self.ko_fix)
        return (self.en, *self.en_match, *self.en_fix)

    def fixes(self, lang: Lang) -> tuple[str, ...]:
        """Wrong renderings in `lang` that the post-check replaces."""
        return self.ko_fix if lang == "ko" else self.en_fix


GLOSSARY: tuple[Term, ...] = (
    Term("넘어짐", "fall", ko_match=("넘어지", "넘어졌", "넘어져"), en_match=("fell", "falls", "falling")),
    Term("추락", "fall from height", en_match=("fell from height", "falls from height")),
    Term("끼임", "caught in", ko_match=("끼였", "끼여", "끼이"), en_match=("caught between",)),
    Term("부딪힘", "struck by", ko_match=("부딪",), en_match=("hit by",)),
    Term(
        "낙하물",
        "falling object",
        en_match=("falling objects", "dropped object"),
        ko_fix=("떨어지는 물체", "추락물"),
    ),
    Term(
        "안전모",
        "hard hat",
        en_match=("hard hats",),
        ko_fix=("안전 헬멧", "헬멧"),
        en_fix=("safety helmet", "hardhat", "helmet"),
    ),
    Term("안전대", "safety harness", ko_fix=("안전벨트", "안전 벨트", "하네스"), en_fix=("safety belt",)),
    Term("쓰러짐", "collapse", ko_match=("쓰러지", "쓰러졌", "쓰러져"), en_match=("collapsed", "collapses")),
    Term("작업자", "worker", ko_match=("근로자", "인부"), en_match=("workers",), ko_fix=("노동자",)),
    Term("비계", "scaffold", en_match=("scaffolding",), ko_fix=("스캐폴딩", "스캐폴드")),
    Term("개구부", "opening", en_match=("floor opening",)),
    Term("지게차", "forklift", ko_fix=("포크리프트",), en_fix=("fork lift",)),
    Term("안전난간", "guardrail", ko_fix=("가드레일",), en_fix=("guard rail", "safety railing")),
    Term("감전", "electric shock", en_match=("electrocution", "electrocuted"), ko_fix=("전기 충격",)),
    Term("협착", "pinching", en_match=("pinched",)),
    Term("전도", "overturning", en_match=("overturned", "tipped over")),
    Term("붕괴", "structural collapse", en_match=("cave-in",)),
    Term("중장비", "heavy equipment"),
    Term("크레인", "crane"),
    Term("굴착기", "excavator", ko_fix=("포크레인", "굴삭기"), en_fix=("digger",)),
    Term("사다리", "ladder"),
    Term("안전화", "safety shoes", en_fix=("safety boots",)),
    Term("보호구", "personal protective equipment", en_match=("PPE",)),
    Term("안전조끼", "safety vest", en_fix=("high-visibility vest",)),
    Term("부상자", "injured person", en_match=("injured worker",)),
    Term("부상", "injury", en_match=("injured", "injuries")),
    Term("응급처치", "first aid"),
    Term("위험구역", "danger zone"),
    Term("작업발판", "work platform"),
    Term("거푸집", "formwork"),
    Term("고소작업", "work at height", en_match=("working at height",)),
    Term("신호수", "signal person", en_fix=("flagman",)),
    Term("안전관리자", "safety manager"),
)


def _spans(text: str, form: str, lang: Lang) -> list[tuple[int, int]]:
    """Where `form` occurs in `text`: Korean as a substring (particles attach), English as whole words."""
    if lang == "ko":
        return [(m.start(), m.end()) for m in re.finditer(re.escape(form), text)]
    pattern = r"(?<![\w-])" + re.escape(form) + r"(?![\w-])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def find_terms(text: str, lang: Lang, glossary: tuple[Term, ...] = GLOSSARY) -> list[Term]:
    """The glossary terms a `lang` text uses, in glossary order.

    Longer wordings are matched first and blanked out, so "fall from height" does not also count as
    "fall", nor 부상자 as 부상.
    """
    forms = sorted(((form, term) for term in glossary for form in term.forms(lang)), key=lambda f: -len(f[0]))
    found: set[Term] = set()
    remaining = text
    for form, term in forms:
        spans = _spans(remaining, form, lang)
        for start, end in spans:
            remaining = remaining[:start] + "\0" * (end - start) + remaining[end:]
        if spans:
            found.add(term)
    return [term for term in glossary if term in found]


def glossary_lines(source: Lang, target: Lang, glossary: tuple[Term, ...] = GLOSSARY) -> str:
    """The glossary as prompt lines, `- source term = target term`, one per entry."""
    return "\n".join(f"- {term.canonical(source)} = {term.canonical(target)}" for term in glossary)


# Korean particles that change with the final consonant of the word before them: (after a
# consonant, after a vowel). A replaced term may end differently from the word it replaces.
_PARTICLES: dict[str, tuple[str, str]] = {}
for _pair in (("이", "가"), ("은", "는"), ("을", "를"), ("과", "와"), ("으로", "로")):
    _PARTICLES[_pair[0]] = _PARTICLES[_pair[1]] = _pair


def _has_final_consonant(word: str) -> bool:
    code = ord(word[-1]) - 0xAC00
    return 0 <= code <= 11171 and code % 28 != 0


def _particle_for(word: str, particle: str) -> str:
    after_consonant, after_vowel = _PARTICLES[particle]
    # 로 follows a final ㄹ (8) as it follows a vowel.
    if after_consonant == "으로" and (ord(word[-1]) - 0xAC00) % 28 == 8:
        return after_vowel
    return after_consonant if _has_final_consonant(word) else after_vowel


def _replace(text: str, wrong: str, right: str, lang: Lang) -> str:
    def keep_capital(match: re.Match[str]) -> str:
        return right[:1].upper() + right[1:] if match.group(0)[:1].isupper() else right

    def with_particle(match: re.Match[str]) -> str:
        particle = match.group(1)
        return right + (_particle_for(right, particle) if particle else "")

    if lang == "ko":
        pattern = re.escape(wrong) + r"(으로|로|이|가|은|는|을|를|과|와)?(?![가-힣])"
        return re.sub(pattern, with_particle, text)
    pattern = r"(?<![\w-])" + re.escape(wrong) + r"(?![\w-])"
    return re.sub(pattern, keep_capital, text, flags=re.IGNORECASE)


def fix_terms(
    source_text: str, output: str, source: Lang, target: Lang, glossary: tuple[Term, ...] = GLOSSARY
) -> str:
    """Replace known wrong renderings in `output` of the glossary terms `source_text` used."""
    for term in find_terms(source_text, source, glossary):
        right = term.canonical(target)
        if _spans(output, right, target):
            continue
        fixed = output
        for wrong in sorted(term.fixes(target), key=len, reverse=True):
            fixed = _replace(fixed, wrong, right, target)
        if fixed == output:
            log.debug("glossary term %r (%s) missing from the translation", right, term.canonical(source))
        output = fixed
    return output
