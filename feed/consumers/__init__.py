"""The per-user WebSocket `/ws/<user_id>` (CONTRACT section 6).

Decisions worth knowing:
- Origin: a present Origin must be on the CORS allow-list (`diymod.origins.origin_allowed`).
  A MISSING Origin is accepted: browsers always send one, so a socket without it comes from a
  non-browser tool (the operator's checks, curl, a script), which could forge any Origin anyway;
  the Origin check guards against other web pages, not against tools. Identity is still
  enforced (a token in token mode).
- Identity: as for HTTP (DESIGN.md). A valid `?token=` (or `Authorization: Bearer`) wins and
  must belong to the user in the path; an invalid token is refused even in client-id mode; in
  token mode a token is required. Refusals close the handshake (daphne answers 403).
- Slow work (feeds, image look-ups) runs in worker threads as tasks, so pings and further
  requests are answered meanwhile; at most MAX_CONCURRENT_FEEDS feeds per socket run at once,
  extra ones get an `error` immediately (the client then falls back to HTTP).
- `wait_for_image` for an image nobody queued answers `error` {error: "no image job for this
  url", image_url}: an `image_processed` cannot be sent, and silence would leave the spinner
  waiting for nothing. A failed job answers `error` {error, image_url} the same way.
- A channel-layer outage (Redis down) does not end the socket: feeds and pings are still
  answered, the layer receive is retried, and once the group is joined again the socket's
  pending waits are looked up anew (their pushes may have been lost meanwhile).
"""

from __future__ import annotations

from feed.consumers.user_socket import UserSocketConsumer

__all__ = ["UserSocketConsumer"]
