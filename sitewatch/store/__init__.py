"""The history: analyses, their reports and chats in a database, their files in a content-addressed folder."""

from sitewatch.store.errors import AnalysisNotFoundError, AnalysisStateError, ReviewError
from sitewatch.store.records import (
    AnalysisPage,
    AnalysisQuery,
    AnalysisRecord,
    ChatRecord,
    IncidentPage,
    IncidentQuery,
    IncidentRecord,
    Progress,
    ReviewRecord,
    ReviewRequest,
    ReviewVerdict,
    Status,
)
from sitewatch.store.store import Store

__all__ = [
    "AnalysisNotFoundError",
    "AnalysisPage",
    "AnalysisQuery",
    "AnalysisRecord",
    "AnalysisStateError",
    "ChatRecord",
    "IncidentPage",
    "IncidentQuery",
    "IncidentRecord",
    "Progress",
    "ReviewError",
    "ReviewRecord",
    "ReviewRequest",
    "ReviewVerdict",
    "Status",
    "Store",
]
