# Every target installs what it needs first (a .venv in the project root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint train check-data eval tune bench bench-scale segloss explain clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m crawler.demo

test: $(STAMP)
	$(PY) -m pytest

check-data: $(STAMP)
	$(PY) -m classifier check-data

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# trains both models (product); the report needs the dev extra (lab, matplotlib)
train: $(STAMP)
	$(PY) -m classifier check-data
	$(PY) -m classifier train
	$(PY) -m lab train-report

eval: $(STAMP)
	$(PY) -m lab eval

# the best mean F1 among rules leaking at most 85% of trafilatura's 72 dev snippets
tune: $(STAMP)
	$(PY) -m lab tune --max-leaked 61

bench: $(STAMP)
	$(PY) -m lab bench

# extract pages/s with -j 1 and -j 2 over the corpora pages: reports/scale.md, scale.png, scale.json
bench-scale: $(STAMP)
	$(PY) -m lab scale --repeat 2

segloss: $(STAMP)
	$(PY) -m lab segloss

explain: $(STAMP)
	$(PY) -m classifier explain $(PAGE) -o reports/explain/page.html
	@echo "open reports/explain/page.html"

clean:
	rm -rf $(VENV) .pytest_cache feeds reports/*.json reports/*.md reports/*.png reports/explain
