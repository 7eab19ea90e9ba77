"""Platform controls: rate limits, audit, API keys, privacy, feature flags, maintenance.

`setup_controls(app)` wires them into an app built by `veza.app.create_app`.
"""
