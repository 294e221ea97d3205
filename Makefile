# The two commands a newcomer needs:
#   make run    start Afiya on the embedded default (SQLite, in-process jobs, local files,
#               console SMS) with demo data, on http://127.0.0.1:8000
#   make test   run the whole test suite (SQLite and PostgreSQL, Redis, S3 server...)
SHELL := /bin/bash
UV = $(shell tools/bootstrap.sh)

.PHONY: run test lint typecheck generate bench clean

run:
	@$(UV) run afiya run

test: lint typecheck
	$(UV) run pytest -q -p no:randomly --durations=15

lint:
	$(UV) run ruff check afiya tests benchmarks
	$(UV) run ruff format --check afiya tests benchmarks
	$(UV) run lint-imports

typecheck:
	$(UV) run mypy

generate:
	$(UV) run afiya openapi export
	$(UV) run afiya docs generate

bench:
	$(UV) run python benchmarks/platform_http.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
