# Two commands: `make report` (the default briefing, offline) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup report test lab bench validate clean screenshots

setup: $(STAMP)

# Re-installs only when the pins or the package metadata change, so a second run is instant.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -r requirements-dev.txt
	$(BIN)/python -m pip install -qq --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name aibubble --display-name "Python (aibubble)" >/dev/null
	@touch $(STAMP)

report: setup
	$(BIN)/aibubble report --offline

test: setup
	$(BIN)/python -m pytest -q

lab: setup
	$(BIN)/jupyter lab --config=jupyter_lab_config.py

# The README's screenshots (docs/*.png) from the bundled render: no market data in them, ever.
screenshots: setup
	$(BIN)/python tools/screenshots.py --out docs

validate: setup
	$(BIN)/aibubble validate

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports/20* reports/index.html reports/history.csv reports/failed reports/.gen reports/.current reports/browser
