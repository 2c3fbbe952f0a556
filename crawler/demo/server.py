"""Serve the bundled demo site over HTTP on loopback, in a background thread.

The site's files contain the placeholder ``__BASE_URL__`` wherever an absolute
URL is needed (canonical links, OpenGraph, JSON-LD, robots.txt, sitemap.xml,
rss.xml).  The server substitutes the real base URL (``http://host:port``) in
every ``.html``, ``.xml`` and ``.txt`` response, so the site works on any free
port::

    with serve(Path("crawler/demo/site")) as base_url:
        urllib.request.urlopen(base_url + "/robots.txt")

    python -m crawler.demo.server [--port 8000]   # foreground, Ctrl-C to stop
"""

from __future__ import annotations

import argparse
import io
import os
import posixpath
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

PLACEHOLDER = b"__BASE_URL__"
SUBSTITUTED_SUFFIXES = frozenset({".html", ".htm", ".xml", ".txt"})
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
DEFAULT_SITE = Path(__file__).resolve().parent / "site"


class DemoRequestHandler(SimpleHTTPRequestHandler):
    """Static files from the server's root, with ``__BASE_URL__`` filled in."""

    server: DemoHTTPServer
    server_version = "HillValleyDemo/1.0"

    def send_head(self) -> BinaryIO | None:
        """Answer GET/HEAD; text files get the base URL substituted."""
        path = self.translate_path(self.path)
        request_path = urlsplit(self.path).path
        if os.path.isdir(path):
            if not request_path.endswith("/"):
                return super().send_head()  # the 301 to the slash-terminated URL
            index = os.path.join(path, "index.html")
            if not os.path.isfile(index):
                self.send_error(HTTPStatus.NOT_FOUND, "File not found")
                return None
            path = index
        suffix = posixpath.splitext(path)[1].lower()
        if suffix not in SUBSTITUTED_SUFFIXES:
            return super().send_head()
        try:
            with open(path, "rb") as fh:  # not pathlib: keep "x.html/" a 404
                data = fh.read()
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        data = data.replace(PLACEHOLDER, self.server.base_url.encode("ascii"))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "text/plain; charset=utf-8"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(path))))
        self.end_headers()
        return io.BytesIO(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet: a crawl makes hundreds of requests."""


class DemoHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its site root and public base URL."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str, port: int) -> None:
        self.root = Path(root).resolve()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), DemoRequestHandler)
        self.base_url = base_url_for(host, self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handle one request with the site root as the handler's directory."""
        handler = cast(type[DemoRequestHandler], self.RequestHandlerClass)
        handler(request, client_address, self, directory=str(self.root))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up early; report anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def base_url_for(host: str, port: int) -> str:
    """``http://host:port`` for a bound address (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextmanager
def serve(root: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve *root* in a background thread; yield the base URL, stop on exit.

    ``port=0`` picks a free port.  The yielded URL has no trailing slash, e.g.
    ``"http://127.0.0.1:54321"``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    httpd = DemoHTTPServer(root, host, port)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"demo-server-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    try:
        yield httpd.base_url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """Run the demo server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.server", description="Serve the bundled demo news site."
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_SITE,
        help="directory to serve (default: the bundled demo site)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        with serve(args.root, args.host, args.port) as base_url:
            print(f"Serving {args.root} at {base_url}/  (Ctrl-C to stop)", flush=True)
            stop.wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
