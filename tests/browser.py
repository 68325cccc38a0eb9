"""Headless Chromium (Debian's `chromium`) driven by Playwright, for tests that look at pages."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path and os.environ.get("CI"):
        pytest.fail("Debian chromium is not installed: CI must run the browser tests (.ci/run installs it)")
    if not path:
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    return path


@contextlib.contextmanager
def browser_page(width: int = 1600, height: int = 1000):
    """A Playwright page in headless Chromium; console errors collected on `page.console_errors`."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.console_errors = errors
            yield page
        finally:
            browser.close()
