"""Profiles written by the model, when OpenAI is configured: one call per NEW filter text.

The model is asked once what a filter text means, in the topic library's own schema (kind,
names, descriptions, aliases, vocabulary, not, detector). The answer is validated like a library
entry, kept in process and in the Django cache (Redis in production: shared by every worker
and kept across restarts) under the prompt version and the model name, so every user with the
same filter text shares it and no post ever costs a profile call. A failed or invalid answer
gives None (the library or generic profile is used) and is not asked again for a minute.
Calls go through diymod.openai_client, the project's one way to the model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from diymod.openai_client import ModelError, chat_json, deadline_after, openai_configured
from feed.profiles.resolve import text_normalise
from feed.profiles.types import Profile, profile_from_dict, profile_problems

logger = logging.getLogger(__name__)

PROMPT_VERSION = "p1"
PROFILE_TIMEOUT_SECONDS = 4.0
PROFILE_CACHE_SECONDS = 60 * 60 * 24 * 90
RETRY_AFTER_FAILURE_SECONDS = 60.0
PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "names", "descriptions", "aliases", "vocabulary", "not", "detector"],
    "properties": {
        "kind": {"type": "string", "enum": ["entity", "topic", "category"]},
        "names": {"type": "array", "items": {"type": "string"}},
        "descriptions": {"type": "array", "items": {"type": "string"}},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "vocabulary": {"type": "array", "items": {"type": "string"}},
        "not": {"type": "array", "items": {"type": "string"}},
        "detector": {"type": "string", "enum": ["none", "profanity", "slurs"]},
    },
}
SYSTEM_PROMPT = (
    "You help a social-media content filter understand what a user's filter means. Given the "
    "filter text, answer in JSON: kind ('entity' for a named person, product, company, show, "
    "game or team, matched by mention; 'topic' for a subject posts can be about without naming "
    "it; 'category' for a kind of language such as swearing or slurs, with detector "
    "'profanity' or 'slurs'; else detector 'none'); names (how people write this filter, "
    "lower-case); descriptions (3-5 short sentences a post about it would resemble); aliases "
    "(lower-case words or phrases whose mention means the topic almost surely: synonyms, former "
    "names, key people, products, subreddits r/name, hashtags, Chinese/Japanese names; never "
    "ambiguous single words); vocabulary (supporting words, not proof alone); not (look-alike "
    "phrases that contain an alias in another sense). The last line of the user message is "
    "the filter text."
)


def profile_to_schema(profile: Profile) -> dict[str, Any]:
    return {
        "kind": profile.kind,
        "names": list(profile.names),
        "descriptions": list(profile.descriptions),
        "aliases": list(profile.aliases),
        "vocabulary": list(profile.vocabulary),
        "not": list(profile.not_phrases),
        "detector": profile.detector or "none",
    }


class ModelProfiles:
    """The model-written profile source the embedded analyzer consults first."""

    def __init__(self) -> None:
        self.model = str(settings.DIYMOD_OPENAI_MODEL)
        self.version = f"mp{PROMPT_VERSION}-{self.model}"
        self._profiles: dict[str, Profile | None] = {}
        self._failed: dict[str, float] = {}
        self._lock = threading.Lock()
        self.calls = 0

    def cache_key(self, text: str) -> str:
        digest = hashlib.sha256(f"{self.model}\x1f{text}".encode()).hexdigest()[:32]
        return f"feed:profile:{PROMPT_VERSION}:{digest}"

    def profile_get(self, filter_text: str) -> Profile | None:
        if not openai_configured():
            return None
        text = text_normalise(filter_text).text or filter_text.strip().lower()
        with self._lock:
            if text in self._profiles:
                return self._profiles[text]
            if time.monotonic() - self._failed.get(text, -1e9) < RETRY_AFTER_FAILURE_SECONDS:
                return None
        profile = self._stored(text)
        if profile is None:
            profile = self._ask(text)
            if profile is None:
                with self._lock:
                    self._failed[text] = time.monotonic()
                return None
        with self._lock:
            self._profiles[text] = profile
        return profile

    def _stored(self, text: str) -> Profile | None:
        try:
            data = cache.get(self.cache_key(text))
        except Exception as error:  # a cache outage costs a model call, not the feed
            logger.warning("profile cache unavailable: %s", error)
            return None
        return _profile_from_answer(text, data) if isinstance(data, dict) else None

    def _ask(self, text: str) -> Profile | None:
        self.calls += 1
        try:
            data = chat_json(
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": f"Filter text:\n{text}"},
                ],
                schema=PROFILE_SCHEMA,
                schema_name="filter_profile",
                deadline=deadline_after(PROFILE_TIMEOUT_SECONDS),
                max_retries=1,
            )
        except ModelError as error:
            logger.warning("profile for a filter text not written by the model: %s", error)
            return None
        profile = _profile_from_answer(text, data)
        if profile is None:
            logger.warning("the model's profile for a filter text was invalid; not used")
            return None
        try:
            cache.set(self.cache_key(text), data, PROFILE_CACHE_SECONDS)
        except Exception as error:
            logger.warning("profile cache unavailable: %s", error)
        return profile


def _profile_from_answer(text: str, data: dict[str, Any]) -> Profile | None:
    entry: dict[str, Any] = {
        "key": "model-" + "-".join(text.encode("ascii", "replace").decode().split())[:80],
        "kind": data.get("kind"),
        "group": "model",
        "names": [str(n).lower() for n in data.get("names", []) if str(n).strip()] or [text],
        "descriptions": [str(d) for d in data.get("descriptions", []) if str(d).strip()],
        "aliases": [str(a).lower() for a in data.get("aliases", []) if str(a).strip()],
        "vocabulary": [str(v).lower() for v in data.get("vocabulary", []) if str(v).strip()],
        "not": [str(n).lower() for n in data.get("not", []) if str(n).strip()],
        "detector": None if data.get("detector") in (None, "none") else data.get("detector"),
    }
    entry["key"] = entry["key"].lower().replace("?", "-")
    nots = set(entry["not"])
    entry["aliases"] = [a for a in entry["aliases"] if a not in nots]
    entry["names"] = [n for n in entry["names"] if n not in nots] or [text]
    if profile_problems(entry):
        return None
    return profile_from_dict(entry, source="model")
