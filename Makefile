# Every target installs what it needs first (a .venv in the project root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo demo-distributed test fuzz label label-auto lint train check-data eval tune bench bench-scale segloss adapt-report explain clean

install: $(STAMP)

# Debian's redis-server for the distributed crawl (its tests, make demo-distributed);
# installed when missing and apt-get may run, otherwise those tests skip and say why
system-deps:
	@command -v redis-server >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } ; } || \
	  echo "note: redis-server is not installed (apt-get install redis-server); the Redis tests will skip"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m crawler.demo

# three crawl workers on one throw-away Redis (Debian's redis-server) on the demo site
demo-distributed: $(STAMP) system-deps
	$(PY) -m crawler.demo.distributed

# the suite on every core (pytest-xdist), one test file a worker at a time so a
# file's shared fixtures (a retrain, a crawl server) are built once;
# make test TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= auto
test: $(STAMP) system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

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

# extract -j 1/-j 2 over the corpora pages and the Redis crawl with 1, 2, 4 workers:
# reports/scale.md, scale.png, scale.json
bench-scale: $(STAMP) system-deps
	$(PY) -m lab scale --repeat 2

# a longer fuzzing run (the property tests of make test, with many more inputs);
# findings go to reports/fuzz/, exit status 1 when there is a new one
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	nice -n 10 $(PY) -m lab.fuzz --seconds $(FUZZ_SECONDS)

segloss: $(STAMP)
	$(PY) -m lab segloss

# each layout folder in turn as a new site: F1 on its other pages against
# 0, 1, 3, 5, 10 of its pages labelled (reports/adapt.md, adapt.png, adapt.json);
# about 200 fits of ~20 s each, ADAPT_JOBS at once
ADAPT_JOBS ?= 2
adapt-report: $(STAMP)
	$(PY) -m lab adapt --jobs $(ADAPT_JOBS)

# label pages in the browser (PAGES: a folder, files or a urls.jsonl), saved in
# training_data/pages/<site>/; label-auto writes the pages whose JSON-LD
# articleBody labels them (SITE=name required)
PAGES ?= training_data/pages
label: $(STAMP)
	$(PY) -m classifier label $(PAGES)

label-auto: $(STAMP)
	$(PY) -m classifier label --auto $(PAGES) --site $(SITE)

explain: $(STAMP)
	$(PY) -m classifier explain $(PAGE) -o reports/explain/page.html
	@echo "open reports/explain/page.html"

clean:
	rm -rf $(VENV) .pytest_cache feeds reports/*.json reports/*.md reports/*.png reports/explain
