"""Pure wire formats shared by the REST API and the WebSocket gateway.

Nothing here does I/O or imports from `veza` or `actors`.
"""
