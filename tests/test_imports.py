"""The import graph: no cycles, every arrow pointing down.

The product (``classifier``, then ``crawler`` above it) never imports the
maintainers' ``lab``; ``classifier`` never imports ``crawler``, matplotlib
or the corpora.  Every import counts, module-level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGES = ("classifier", "crawler", "lab")
# what the product must never import (dev-only or checkout-only)
FORBIDDEN = {
    "classifier": ("lab", "crawler", "matplotlib", "trafilatura", "readability", "justext"),
    "crawler": ("lab", "matplotlib"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(p): p
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if "site" not in p.relative_to(ROOT).parts  # the demo site's files are data
    }


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports (project modules resolved, others by top name)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import vocab` imports a module
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walk_sees_the_packages() -> None:
    edges = graph()
    assert {"classifier.cli", "classifier.segment", "crawler.pipelines", "lab.cli"} <= set(edges)
    assert "classifier.segment" in edges["classifier.features"]
    assert "classifier.vocab" in edges["classifier.segment"]  # `from . import vocab`


def test_no_import_cycle() -> None:
    assert find_cycle(graph()) is None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_product_arrows_point_down(package: str) -> None:
    wrong = {
        f"{name} -> {target}"
        for name, targets in graph().items()
        if name.split(".")[0] == package
        for target in targets
        if target.split(".")[0] in FORBIDDEN[package]
    }
    assert not wrong


def test_classifier_does_not_read_the_corpora() -> None:
    for path in sorted((ROOT / "classifier").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "shared/corpora" not in text and "NEWSFILTER_CORPORA" not in text, path
