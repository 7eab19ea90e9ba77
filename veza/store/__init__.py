"""SQL, one module per domain. Functions take a connection (the caller owns the
transaction), return plain records or dicts, and raise domain errors, never HTTP ones."""
