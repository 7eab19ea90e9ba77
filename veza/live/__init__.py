"""Live streaming glue: wiring the LiveStream actor, ingest entry points, WebRTC sessions."""
