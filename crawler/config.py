"""The NEWSFILTER_* settings, read once and typed.

Their defaults, and the reasons for them, are in :mod:`crawler.settings` and
only there: this module gives none, and refuses settings that lack one of
them (a crawl run without the project's settings module) instead of
silently reading 0 or False.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from scrapy.settings import BaseSettings


@dataclass(frozen=True)
class Config:
    """One field per NEWSFILTER_<FIELD> setting."""

    sites: str
    model: str
    threshold: float | None  # None: the model card's
    switch_cost: float | None  # None: the model card's
    min_story_chars: int
    chrome_depth: int
    teaser_priority: int
    chrome_priority: int
    classify: bool
    site_profile: bool
    stats_file: str
    feed: str
    retry_after_max: float
    trap_pages: int
    trap_segment_repeats: int
    feed_fsync: bool
    sitemap_maxsize: int
    limits: dict[str, int]  # classifier.segment.Limits by name; empty: the defaults
    redis_url: str
    redis_heartbeat: float
    redis_worker_timeout: float
    redis_domain_concurrency: int
    redis_domain_delay: float
    warc_dir: str
    warc_max_size: int

    @staticmethod
    def setting(name: str) -> str:
        return f"NEWSFILTER_{name.upper()}"

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        missing = [cls.setting(f.name) for f in fields(cls) if cls.setting(f.name) not in settings]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} not set: load the project's settings (crawler.settings)"
            )

        def optional(name: str) -> float | None:
            value = settings.getfloat(cls.setting(name))
            return value if value >= 0 else None

        return cls(
            sites=settings.get("NEWSFILTER_SITES"),
            model=settings.get("NEWSFILTER_MODEL"),
            threshold=optional("threshold"),
            switch_cost=optional("switch_cost"),
            min_story_chars=settings.getint("NEWSFILTER_MIN_STORY_CHARS"),
            chrome_depth=settings.getint("NEWSFILTER_CHROME_DEPTH"),
            teaser_priority=settings.getint("NEWSFILTER_TEASER_PRIORITY"),
            chrome_priority=settings.getint("NEWSFILTER_CHROME_PRIORITY"),
            classify=settings.getbool("NEWSFILTER_CLASSIFY"),
            site_profile=settings.getbool("NEWSFILTER_SITE_PROFILE"),
            stats_file=settings.get("NEWSFILTER_STATS_FILE"),
            feed=settings.get("NEWSFILTER_FEED"),
            retry_after_max=settings.getfloat("NEWSFILTER_RETRY_AFTER_MAX"),
            trap_pages=settings.getint("NEWSFILTER_TRAP_PAGES"),
            trap_segment_repeats=settings.getint("NEWSFILTER_TRAP_SEGMENT_REPEATS"),
            feed_fsync=settings.getbool("NEWSFILTER_FEED_FSYNC"),
            sitemap_maxsize=settings.getint("NEWSFILTER_SITEMAP_MAXSIZE"),
            limits={k: int(v) for k, v in settings.getdict("NEWSFILTER_LIMITS").items()},
            redis_url=settings.get("NEWSFILTER_REDIS_URL") or "",
            redis_heartbeat=settings.getfloat("NEWSFILTER_REDIS_HEARTBEAT"),
            redis_worker_timeout=settings.getfloat("NEWSFILTER_REDIS_WORKER_TIMEOUT"),
            redis_domain_concurrency=settings.getint("NEWSFILTER_REDIS_DOMAIN_CONCURRENCY"),
            redis_domain_delay=settings.getfloat("NEWSFILTER_REDIS_DOMAIN_DELAY"),
            warc_dir=settings.get("NEWSFILTER_WARC_DIR") or "",
            warc_max_size=settings.getint("NEWSFILTER_WARC_MAX_SIZE"),
        )
