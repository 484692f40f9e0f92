# Two commands do all set-up on a fresh clone:
#   make audit   build the environment and audit the bundled samples/
#   make test    build the environment and run lint, type checks and the whole test suite
VENV   := .venv
PY     := $(VENV)/bin/python
ORACLE := tests/differential/oracle

.PHONY: audit test bench deep clean

$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(ORACLE)/node_modules/.installed: $(ORACLE)/package.json $(ORACLE)/package-lock.json
	cd $(ORACLE) && npm ci --silent --no-audit --no-fund
	touch $@

# Findings (exit 1) are the audit's answer, not a failure of the command; input errors (2) fail.
audit: $(VENV)/.installed
	$(VENV)/bin/policyeval audit samples/ || [ $$? -eq 1 ]

test: $(VENV)/.installed $(ORACLE)/node_modules/.installed
	$(VENV)/bin/ruff check policyeval tests bench
	$(VENV)/bin/ruff format --check policyeval tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 --hypothesis-profile=ci

deep: $(VENV)/.installed $(ORACLE)/node_modules/.installed
	$(PY) -m pytest -n 2 --hypothesis-profile=deep --deep

bench: $(VENV)/.installed $(ORACLE)/node_modules/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(ORACLE)/node_modules
