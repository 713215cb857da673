"""Every word sitewatch shows a person, in every language it speaks, and the one way a Report is put in words."""

from sitewatch.text.answers import answer_from_report, detect_intents
from sitewatch.text.base import Intent, Language
from sitewatch.text.describe import IncidentRow, ReportText, describe, keyframe_caption
from sitewatch.text.incidents import Incident, group_incidents
from sitewatch.text.languages import DEFAULT_LANG, LANGS, LANGUAGES, Lang, as_lang, language, t

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LANGUAGES",
    "Incident",
    "IncidentRow",
    "Intent",
    "Lang",
    "Language",
    "ReportText",
    "answer_from_report",
    "as_lang",
    "describe",
    "detect_intents",
    "group_incidents",
    "keyframe_caption",
    "language",
    "t",
]
