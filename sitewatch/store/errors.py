"""Errors the history raises; surfaces turn them into their own messages (an HTTP 404, a CLI line)."""

from __future__ import annotations

from sitewatch.errors import SitewatchError


class AnalysisNotFoundError(SitewatchError):
    """No analysis with this id is stored."""


class AnalysisStateError(SitewatchError):
    """The analysis is not in a state that allows this (a chat before it is done, say)."""


class ReviewError(SitewatchError):
    """A review that cannot be applied as sent (a note alone on an incident never reviewed)."""
