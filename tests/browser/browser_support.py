"""Shared pieces of the browser tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = ROOT / "web"
SCREENSHOT_ROOT = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}
DEFAULT_TIMEOUT_MS = 5000


def chromium_path() -> str | None:
    """Debian's chromium; never a browser downloaded by Playwright."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


class Screenshots:
    """Numbered screenshots of one test's steps: shot("step") -> <directory>/NN-step.png."""

    def __init__(self, directory: Path, default_page: Callable[[], object]) -> None:
        self.directory = directory
        self.default_page = default_page
        self.count = 0

    def __call__(self, step: str, page=None, *, full_page: bool = True) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-") or "step"
        path = self.directory / f"{self.count:02d}-{slug}.png"
        (page or self.default_page()).screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path


class QuietStaticHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def start_server(server: ThreadingHTTPServer) -> None:
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def stop_server(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
