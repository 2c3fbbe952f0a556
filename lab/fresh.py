"""One measurement a process: a function run in a new Python process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from .corpora import PROJECT_ROOT


def in_fresh_process(module: str, function: str, *args: object) -> Any:
    """``module.function(*args)`` run in a new Python process; its JSON result.

    A measurement of its own: clean peak memory, no model or cache left
    over from the one before."""
    code = f"import json; from {module} import {function}; print(json.dumps({function}(*{args!r})))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])
