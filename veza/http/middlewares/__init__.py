"""The per-request duties of the HTTP layer, one module each; `edge` runs them all in one
middleware and one response hook (see its docstring for the order)."""
