"""The one answer to "may this page origin call us?", for CORS and for the WebSocket handshake.

The allow-list itself lives in settings (DIYMOD_ORIGIN_PATTERNS, regexes; DIYMOD_CORS_ORIGINS,
exact origins); django-cors-headers reads the same two settings, so HTTP and the socket can never
disagree (CONTRACT section 1).
"""

from __future__ import annotations

import re

from django.conf import settings


def origin_allowed(origin: str) -> bool:
    """True when `origin` (an Origin header value, e.g. `https://www.reddit.com`) is allowed.

    Matches the way django-cors-headers does: an exact origin from DIYMOD_CORS_ORIGINS, or a
    pattern from DIYMOD_ORIGIN_PATTERNS matched from the start (`re.match`). An empty origin and
    the opaque `null` origin (sandboxed frames, file: pages) are not allowed.
    """
    origin = origin.strip()
    if not origin or origin == "null":
        return False
    if origin.rstrip("/") in settings.DIYMOD_CORS_ORIGINS:
        return True
    return any(re.match(pattern, origin) for pattern in settings.DIYMOD_ORIGIN_PATTERNS)
