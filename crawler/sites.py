"""The sites file: which news sites the `news` spider crawls.

TOML, one ``[[site]]`` table a site::

    [[site]]
    name = "valley-times"
    start_urls = ["https://valley.example/"]
    allowed_domains = ["valley.example"]      # default: the start URLs' hosts
    sitemaps = ["https://valley.example/sitemap.xml"]   # optional
    feeds = ["https://valley.example/rss.xml"]          # optional, RSS or Atom
    include = ["/news/"]                      # optional regexes on URLs
    exclude = ["/tag/", "\\?page="]
    model = "../models/valley-times/block_model.skops"   # optional: a per-site model

``model`` (``python -m classifier train --site NAME`` writes one) is a
block model for this site's pages, its site stage beside it; a relative
path is relative to the sites file's folder.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# links to these are not pages: the crawl does not request them
SKIP_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".svg",
    ".pdf",
    ".zip",
    ".mp3",
    ".mp4",
    ".css",
    ".js",
    ".ico",
    ".xml",
    ".json",
)


class SitesError(ValueError):
    """The sites file is missing or malformed; the message names it."""


@dataclass
class Site:
    name: str
    start_urls: list[str]
    allowed_domains: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)
    model: str = ""  # a per-site block model (absolute path); "": the crawl's model

    def __post_init__(self) -> None:
        if not self.allowed_domains:
            self.allowed_domains = sorted(
                {urlsplit(u).hostname or "" for u in self.start_urls} - {""}
            )

    def wants(self, url: str) -> bool:
        """Whether a discovered URL passes the site's include/exclude patterns."""
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    def owns(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def follows(self, url: str) -> bool:
        """Whether a link found on one of the site's pages is worth a request.

        An http(s) URL on the site, passing its include/exclude patterns, that
        does not name a file type the crawl skips (images, PDFs, scripts...).
        """
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and self.owns(url)
            and self.wants(url)
            and not parts.path.lower().endswith(SKIP_EXTENSIONS)
        )

    @classmethod
    def from_url(cls, url: str) -> Site:
        return cls(name=urlsplit(url).hostname or url, start_urls=[url])


def _strings(entry: dict[str, object], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SitesError(f"{where}: '{key}' must be a string or a list of strings")
    return list(value)


def load_sites(path: Path | str) -> list[Site]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SitesError(f"sites file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SitesError(f"sites file {path} is not valid TOML: {exc}") from exc
    sites = []
    for i, entry in enumerate(data.get("site", []), 1):
        where = f"{path}: site #{i}"
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise SitesError(f"{where}: 'name' is required")
        try:
            include = [re.compile(p) for p in _strings(entry, "include", where)]
            exclude = [re.compile(p) for p in _strings(entry, "exclude", where)]
        except re.error as exc:
            raise SitesError(f"{where} ({name}): bad pattern: {exc}") from exc
        model = entry.get("model", "")
        if not isinstance(model, str):
            raise SitesError(f"{where} ({name}): 'model' must be a path (a string)")
        if model:
            model = str(path.parent / model)  # an absolute model path stays as it is
        start = _strings(entry, "start_urls", where)
        if not start and not entry.get("sitemaps") and not entry.get("feeds"):
            raise SitesError(f"{where} ({name}): give start_urls, sitemaps or feeds")
        sites.append(
            Site(
                name,
                start,
                _strings(entry, "allowed_domains", where),
                _strings(entry, "sitemaps", where),
                _strings(entry, "feeds", where),
                include,
                exclude,
                model,
            )
        )
    if not sites:
        raise SitesError(f"sites file {path} lists no [[site]]")
    return sites
