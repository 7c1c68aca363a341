"""`diymod_check`: an operator's end-to-end check of a running DIY-MOD server.

It speaks only the public wire contract (HTTP and WebSocket, CONTRACT sections 2, 5, 6) and
imports nothing of the server's own, so it checks a remote deployment as well as a local one:

    python manage.py diymod_check --url http://127.0.0.1:8000 [--full] [--json]
    python -m diymod.check --url https://diymod.example.org --full

Modules: `feeds` (the built-in feed), `image_server` (the picture --full serves), `client`
(HTTP + socket, failure wording), `context`, `basic_steps`, `image_steps`, `runner`, `render`,
`report` (plain data), `cli` (arguments shared by the command and `python -m`).
"""

from __future__ import annotations
