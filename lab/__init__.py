"""The maintainers' lab: what is run in a checkout, never shipped in the wheel.

Corpus access (``../shared/corpora``), the corpus metrics beside full-text,
evaluation beside the peers, the decision-rule sweep, benchmarks (the
extractors and the crawl), and the report and chart writers.  Everything
here imports the product (``classifier``, ``crawler``); nothing there
imports this.  ``python -m lab eval|tune|bench|segloss|train-report``.
"""
