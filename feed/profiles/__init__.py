"""Filter profiles: what a filter means, from the model, the shipped library or its own text."""

from __future__ import annotations

from feed.profiles.library import Library, library_get, library_load
from feed.profiles.resolve import profile_generic, profile_resolve, text_normalise
from feed.profiles.types import Profile

__all__ = [
    "Library",
    "Profile",
    "library_get",
    "library_load",
    "profile_generic",
    "profile_resolve",
    "text_normalise",
]
