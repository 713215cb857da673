"""The error types a user can meet; each carries a one-line, specific message."""

from __future__ import annotations


class SitewatchError(Exception):
    """Base for every error sitewatch reports to a user instead of a traceback."""


class VideoError(SitewatchError):
    """A video could not be used."""


class VideoNotFoundError(VideoError):
    """The path does not exist."""


class NotAFileError(VideoError):
    """The path is a directory or another non-file."""


class EmptyFileError(VideoError):
    """The file has zero bytes."""


class NotAVideoError(VideoError):
    """The file is not a container FFmpeg can read (a text file named .mp4, say)."""


class NoVideoStreamError(VideoError):
    """The container holds no video stream (audio only, subtitles only)."""


class UnsupportedCodecError(VideoError):
    """The video stream uses a codec this FFmpeg build cannot decode."""


class ResolutionTooLargeError(VideoError):
    """The frame size is above the configured pixel limit."""


class ResolutionTooSmallError(VideoError):
    """The frames are too small to show a person at all (a 1x1 or 2x2 video)."""


class NoFramesError(VideoError):
    """Not a single frame could be decoded."""


class VideoTooLongError(VideoError):
    """The video is longer, or would need more frames, than the configured budget allows."""


class SettingsError(SitewatchError):
    """A setting (environment variable, CLI flag or page option) has a value that is not allowed."""


class OutputError(SitewatchError):
    """The output folder cannot be used or written."""


class QuestionTooLongError(SitewatchError):
    """A chat question is longer than the configured limit."""


class MissingExtraError(SitewatchError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelLoadError(SitewatchError):
    """Model weights or configuration could not be loaded."""


class BackendError(SitewatchError):
    """A model or translation backend failed (server down, bad answer)."""


class IncompleteAnswerError(BackendError):
    """A model's answer was cut off (token limit, or a stream that ended early); `partial` holds what came."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial
