"""HTTP and WebSocket entry point (daphne or any ASGI server)."""

from __future__ import annotations

import gc
import os
import threading

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler


def middleware_in_one_thread(handler: ASGIHandler) -> ASGIHandler:
    """Run a request's whole middleware chain and its view in one worker thread.

    Django builds the ASGI chain in async mode. Every view here is sync, and WhiteNoise is a
    sync-only middleware, so a request would go loop -> thread (our middleware, CORS, WhiteNoise)
    -> loop (the async-capable ones below it) -> thread (each of their process_request and
    process_response, then the view): about fifteen hand-overs between the event loop and a
    thread per request. In sync mode the chain is one call, handed to the same thread-sensitive
    executor Django's own top-level adapter uses (issue 18: bare /get_feed about 15% faster
    under load, docs/BENCHMARKS.md). WebSockets do not go through this chain.
    """
    handler.load_middleware(is_async=False)
    chain = handler._middleware_chain  # type: ignore[attr-defined]  # set by load_middleware
    handler._middleware_chain = sync_to_async(chain, thread_sensitive=True)  # type: ignore[attr-defined]
    return handler


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diymod.settings")
django_application = middleware_in_one_thread(get_asgi_application())
# Feeds answer with 1–1.5 MB bodies: send them in one ASGI message rather than Django's 64 KB
# pieces (about 4 ms less per feed through daphne, docs/BENCHMARKS.md).
django_application.chunk_size = 4 * 1024 * 1024

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from feed.routing import websocket_urlpatterns  # noqa: E402


def analyzer_warm_in_background() -> None:
    """Load the embedded model while the server starts, so the first feed does not wait for it.

    Only here, in the server's entry point: manage.py commands never pay for it.
    """
    from django.conf import settings

    from feed.analyzers import analyzer_warm

    if settings.DIYMOD_WARM_ANALYZER:
        threading.Thread(target=analyzer_warm, name="analyzer-warm", daemon=True).start()


def garbage_collector_tune() -> None:
    """Keep full collections from walking every socket's objects (10,000 sockets, issue 18).

    What start-up allocated (Django, the URL tree, the model's tables) lives as long as the
    process: frozen, no collection ever scans it again. The thresholds make young collections
    rarer and full ones rarer still; reference counting frees most objects anyway, the collector
    only has cycles left to find.
    """
    from django.conf import settings

    gc.set_threshold(*settings.DIYMOD_GC_THRESHOLDS)
    if settings.DIYMOD_GC_FREEZE:
        gc.collect()
        gc.freeze()


analyzer_warm_in_background()

application = ProtocolTypeRouter(
    {"http": django_application, "websocket": URLRouter(websocket_urlpatterns)}
)
garbage_collector_tune()
