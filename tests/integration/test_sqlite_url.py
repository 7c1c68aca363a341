"""A SQLite DATABASE_URL gets the same locking behaviour as the built-in SQLite default.

Found by the security matrix: with a plain `sqlite:///...` URL, /get_feed writing an image job
while a background job wrote failed at once with "database is locked" and left the image
unmoderated.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.live_server import PYTHON, ROOT, server_env

pytestmark = pytest.mark.integration

READ_OPTIONS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
)


def database_options(url: str) -> dict:
    completed = subprocess.run(
        [PYTHON, "-c", READ_OPTIONS],
        cwd=ROOT,
        env=server_env({"DATABASE_URL": url}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_sqlite_url_waits_for_locks_and_takes_write_locks_up_front(tmp_path: Path) -> None:
    options = database_options(f"sqlite:///{tmp_path}/db.sqlite3")

    assert options == {"timeout": 20, "transaction_mode": "IMMEDIATE"}


def test_options_in_the_sqlite_url_win(tmp_path: Path) -> None:
    options = database_options(f"sqlite:///{tmp_path}/db.sqlite3?timeout=3")

    assert options["timeout"] == 3 and options["transaction_mode"] == "IMMEDIATE"
