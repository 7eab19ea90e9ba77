# The two commands of the README. Both install what they need first.
PY ?= python3
VENV := .venv

.PHONY: serve test install install-test system-deps

serve: install
	$(VENV)/bin/veza serve

test: install-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install:
	scripts/bootstrap

install-test: system-deps
	scripts/bootstrap test

system-deps:
	scripts/install-system-deps
