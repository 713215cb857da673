"""Screenshots of the chat page in each language, after a real analysis and one question, for docs/.

    .venv/bin/python scripts/page_screenshots.py [--clip CLIP] [--out docs]

Needs Debian's chromium (apt-get install chromium fonts-noto-cjk) and the ui extra.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from sitewatch.settings import get_settings, updated
from sitewatch.ui.app import launch

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "data" / "videos" / "dev01_sriram2226.mp4"
QUESTIONS = {"ko": "언제 넘어졌나요?", "en": "When did the person fall?"}
LOCALES = {"ko": "ko-KR", "en": "en-US"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shoot(clip: Path, out: Path, lang: str) -> Path:
    """Analyse `clip` on a fresh page in `lang`, ask one question, and save a full-page screenshot."""
    with tempfile.TemporaryDirectory() as data:
        settings = updated(get_settings(), lang=lang, data_dir=Path(data))
        app = launch(port=_free_port(), block=False, lang=lang, settings=settings)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1300}, locale=LOCALES[lang])
                page.goto(app.url)
                page.set_input_files("#sw-video input[type=file]", str(clip))
                page.wait_for_selector("#sw-video video", timeout=60_000)
                page.click("#sw-start")
                page.wait_for_selector("#sw-question textarea:not([disabled])", timeout=180_000)
                page.fill("#sw-question textarea", QUESTIONS[lang])
                page.press("#sw-question textarea", "Enter")
                page.wait_for_function("document.querySelectorAll('#sw-chat .message').length >= 2", timeout=60_000)
                page.wait_for_timeout(1500)
                path = out / f"page-{lang}.png"
                page.screenshot(path=str(path), full_page=True)
                browser.close()
        finally:
            app.close()
    return path


def main() -> None:
    """Write docs/page-ko.png and docs/page-en.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--lang", action="append", choices=sorted(LOCALES))
    args = parser.parse_args()
    for lang in args.lang or sorted(LOCALES, reverse=True):
        print(shoot(args.clip, args.out, lang))


if __name__ == "__main__":
    main()
