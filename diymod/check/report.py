"""What the check is asked to do and what it found: plain data, rendered by `render.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_IMAGE_TIMEOUT_SECONDS = 30.0
DEFAULT_STEP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class CheckOptions:
    url: str  # the server's base URL, http(s)://host:port[/prefix]
    user_id: str
    token: str | None = None
    full: bool = False
    image_url: str | None = None  # --full: an image the server can fetch, instead of serving one
    serve_host: str = "127.0.0.1"
    serve_port: int = 0
    image_timeout: float = DEFAULT_IMAGE_TIMEOUT_SECONDS
    # Per HTTP call / socket reply; the first feed may load the embedded model.
    step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    ms: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "ms": round(self.ms, 1), "detail": self.detail}


@dataclass(frozen=True)
class LocalNetworkAccess:
    """The server's URL is on a loopback or private address: Chrome then blocks calls from a
    page on reddit.com or x.com until the user allows Local Network Access (README, "Use it
    with the extension")."""

    address_space: str  # "loopback" or "private"
    address: str  # the address the URL's host resolved to

    @property
    def note(self) -> str:
        return (
            f"{self.address} is a {self.address_space} address: browsers ask the user for "
            "Local Network Access before a page on reddit.com or x.com may call it; until "
            "it is allowed, the extension gets no answer and feeds stay unmoderated"
        )

    def as_dict(self) -> dict[str, Any]:
        return {"address_space": self.address_space, "address": self.address, "note": self.note}


@dataclass
class CheckReport:
    url: str
    user_id: str
    full: bool
    steps: list[StepResult] = field(default_factory=list)
    total_ms: float = 0.0
    # --full: from sending the feed to having verified the result image.
    end_to_end_ms: float | None = None
    local_network_access: LocalNetworkAccess | None = None  # None: a public address (or unknown)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def first_failure(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "url": self.url,
            "user_id": self.user_id,
            "full": self.full,
            "steps": [step.as_dict() for step in self.steps],
            "total_ms": round(self.total_ms, 1),
            "end_to_end_ms": None if self.end_to_end_ms is None else round(self.end_to_end_ms, 1),
            "local_network_access": (
                None if self.local_network_access is None else self.local_network_access.as_dict()
            ),
        }
