"""The edge of the HTTP layer: what every request passes through, one duty per module;
`edge.Edge.route` wraps each route's handler with all of them (see `edge` for the order,
and why this is not an aiohttp middleware)."""
