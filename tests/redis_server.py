"""A real Redis for the tests: Debian's redis-server on 127.0.0.1, a free port, a tmp dir.

    from redis_server import redis_server_fixture  # noqa: F401  # gives `redis_url`

It is started for each test that asks for it, answers PING before the test
runs, keeps nothing (no RDB, no AOF; its folder is the test's tmp_path) and
is stopped afterwards.  Without redis-server the test is skipped, saying how
to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.redis_server import redis_server, redis_server_path

NOT_INSTALLED = "redis-server is not installed: apt-get install redis-server (Debian/Ubuntu)"


@pytest.fixture(name="redis_url")
def redis_server_fixture(tmp_path: Path) -> Iterator[str]:
    if redis_server_path() is None:
        pytest.skip(NOT_INSTALLED)
    with redis_server(tmp_path / "redis") as url:
        yield url
