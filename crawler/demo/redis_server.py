"""A throw-away Redis server for the distributed demo, the tests and the benchmark.

Debian's ``redis-server`` (``apt-get install redis-server``), started on
127.0.0.1 on a free port, with its working directory in a temporary folder
and no persistence (no RDB snapshot, no AOF), and stopped afterwards::

    with redis_server() as url:      # "redis://127.0.0.1:PORT/0"
        ...
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

REDIS_SERVER = "redis-server"
DEBIAN_PATH = Path("/usr/bin/redis-server")
START_SECONDS = 10.0


class RedisUnavailable(RuntimeError):
    """redis-server is not installed or did not start."""


def redis_server_path() -> Path | None:
    found = shutil.which(REDIS_SERVER)
    if found:
        return Path(found)
    return DEBIAN_PATH if DEBIAN_PATH.exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(workdir: Path | None = None) -> Iterator[str]:
    """Run redis-server until the block ends; yield its URL.

    *workdir* (default: a new temporary folder, removed afterwards) holds its
    log.  Raises :class:`RedisUnavailable` if it is not installed or does not
    answer PING within a few seconds.
    """
    binary = redis_server_path()
    if binary is None:
        raise RedisUnavailable(
            "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)"
        )
    with tempfile.TemporaryDirectory(prefix="newsfilter-redis-") as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = folder / "redis.log"
        cmd = [
            str(binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(log),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for_ping(proc, url, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


def _wait_for_ping(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RedisUnavailable(f"redis-server exited ({proc.returncode}): {err}{text}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RedisUnavailable(f"redis-server at {url} did not answer PING")
            time.sleep(0.05)
    finally:
        client.close()
