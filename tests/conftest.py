from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def page(body: str, head: str = "<title>Test page</title>") -> str:
    """A tiny HTML document around `body`."""
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
