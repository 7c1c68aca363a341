"""The topic library shipped with the project: feed/profiles/library/*.json (issue 14).

Each file is a JSON array of profiles in the schema of `types.profile_from_dict`. The library is
read once per process; its sha256 (over every file's name and bytes, in name order) is part of
the embedded analyzer's version, so editing a profile invalidates cached decisions.
An entry that fails validation is skipped with a warning (tests/feed/test_profiles.py keeps
the shipped files clean), so one bad entry never costs the other profiles.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from feed.profiles.types import Profile, profile_from_dict, profile_problems

logger = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

_library: Library | None = None
_library_lock = threading.Lock()


@dataclass(frozen=True)
class Library:
    profiles: tuple[Profile, ...]
    sha256: str
    problems: tuple[str, ...]  # "file: key: problem" for skipped entries

    @property
    def version(self) -> str:
        return self.sha256[:12]


def library_load(directory: Path = LIBRARY_DIR) -> Library:
    digest = hashlib.sha256()
    profiles: list[Profile] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        try:
            entries = json.loads(raw)
        except ValueError as error:
            problems.append(f"{path.name}: not JSON ({error})")
            continue
        if not isinstance(entries, list):
            problems.append(f"{path.name}: not a JSON array")
            continue
        for entry in entries:
            found = profile_problems(entry)
            key = entry.get("key") if isinstance(entry, dict) else None
            if not found and key in seen:
                found = ["key already used"]
            if found:
                problems.extend(f"{path.name}: {key}: {problem}" for problem in found)
                continue
            seen.add(str(key))
            profiles.append(profile_from_dict(entry))
    for problem in problems:
        logger.warning("topic library entry skipped: %s", problem)
    return Library(tuple(profiles), digest.hexdigest(), tuple(problems))


def library_get() -> Library:
    global _library
    if _library is None:
        with _library_lock:
            if _library is None:
                _library = library_load()
    return _library
