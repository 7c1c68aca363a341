"""The real Reddit and X captures in ../shared/fixtures/real (read by path, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL_CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"


def real_capture(platform_folder: str, name: str) -> str:
    """The text of a capture; the calling test is skipped when the captures are not there."""
    path = REAL_CAPTURES / platform_folder / name
    if not path.exists():
        pytest.skip(f"real capture {platform_folder}/{name} is not available")
    return path.read_text()
