"""The `sitewatch` command line: each command builds a request from its flags and presents what comes back."""

# `sitewatch --help` lists the commands in the order their modules register them: one video first.
# isort: off
from sitewatch.cli import video, batch, history, training, serving  # noqa: F401
# isort: on
from sitewatch.cli.app import app, main

__all__ = ["app", "main"]
