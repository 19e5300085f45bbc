.PHONY: run test lint audit

run:  ## serve on http://127.0.0.1:8000 with SQLite, a shared SQLite cache and demo data
	scripts/run.sh

test:  ## the whole suite, on SQLite and on PostgreSQL (with a real Redis)
	scripts/test.sh

audit:  ## known vulnerabilities in the installed packages (fails on any found)
	scripts/venv.sh dev
	.venv/bin/pip-audit --progress-spinner off --skip-editable

lint:  ## ruff, the import rules of ARCHITECTURE.md (.importlinter), no import cycles, sizes
	scripts/venv.sh dev
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/python scripts/import_cycles.py
	.venv/bin/python scripts/code_size.py --strict
