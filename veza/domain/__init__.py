"""The rules of the platform, one module per domain (`veza/domain/<domain>.py`).

Between the edges (`veza/api`, `veza/ws`) and the SQL (`veza/store`): permissions, states
and limits live here, written once, and both REST handlers and socket commands call them.
Domain functions take a connection (the caller owns the transaction), the acting principal
and plain values; they return plain results and raise `veza.domain.errors`. Nothing here
imports aiohttp or `veza.http`. See `docs/architecture.md`.
"""
