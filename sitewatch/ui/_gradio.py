"""Import gradio with its outside calls (analytics, version checks) switched off first."""

from __future__ import annotations

import os

# Read by gradio at import time; without it gradio calls api.gradio.app and huggingface.co at start.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from sitewatch.optional import require

gr = require("gradio", "ui")
