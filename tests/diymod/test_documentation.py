"""Every environment variable the settings read is documented (README.md and .env.example)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read() -> set[str]:
    source = (ROOT / "diymod" / "settings.py").read_text()
    return set(re.findall(r'env_[a-z]+\(\s*"([A-Z0-9_]+)"', source))


def test_settings_read_some_variables():
    assert {"DATABASE_URL", "REDIS_URL", "DIYMOD_AUTH", "OPENAI_API_KEY"} <= variables_read()


def test_every_variable_is_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in variables_read() if f"`{name}`" not in readme)
    assert missing == []


def test_every_variable_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in variables_read() if name not in example)
    assert missing == []


def test_readme_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
