"""One middleware per module; `veza.app` puts them in order."""
