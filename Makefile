# The two commands of the README. Both install what they need first.
PY ?= python3
VENV := .venv

.PHONY: serve test fuzz install install-test system-deps

serve: install
	$(VENV)/bin/veza serve

test: install-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# schemathesis with every check over the whole OpenAPI document, anonymously, as a user and
# as an admin, against a real server (DATABASE_URL's PostgreSQL, else the embedded one).
# FUZZ_ARGS passes more, e.g. FUZZ_ARGS="--max-examples 500 --seed 1".
fuzz: install-test
	$(VENV)/bin/python -m tests.fuzz.run $(FUZZ_ARGS)

install:
	scripts/bootstrap

install-test: system-deps
	scripts/bootstrap test

system-deps:
	scripts/install-system-deps
