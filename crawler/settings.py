"""Scrapy settings for the newsfilter crawler.

Polite by default: robots.txt obeyed, AutoThrottle on, two requests at a time
per domain, an identifying User-Agent, Retry-After honoured.  Project settings
carry the NEWSFILTER_ prefix; this module is the one place that gives their
defaults (and says why); the code reads them through :mod:`crawler.config`.
"""

from __future__ import annotations

BOT_NAME = "newsfilter"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Identify ourselves and be polite
USER_AGENT = (
    "newsfilter/0.1 (+https://github.com/newsfilter/newsfilter; regional news research crawler)"
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
# Scrapy's defaults (1 GiB, warn at 32 MiB) let one response hold a gigabyte.
# News pages are rarely above 2 MiB even with inline scripts and images; a
# page above 8 MiB is refused: announced (Content-Length) before any byte is
# read, streamed once that much has arrived, compressed once it unpacks to
# that much (a gzip bomb stops at 8 MiB, not at 1 GiB).  Counted as
# newsfilter/failed/too_large and .../too_large_unpacked.  Each download in
# flight may hold this much at once, so it also bounds the crawl's memory
# peaks (the soak test measures them).  Sitemaps: NEWSFILTER_SITEMAP_MAXSIZE.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # log a page larger than this (still parsed)
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
DEPTH_LIMIT = 6
DEPTH_PRIORITY = 0

# AutoThrottle adapts the delay to the server's latency
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Some news servers answer errors with a page worth counting, not retrying
HTTPERROR_ALLOWED_CODES: list[int] = []

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's lets requests through unchecked while robots.txt is being
    # fetched (all but the first two waiting); ours makes every one wait
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    # requests queued for a URL pattern found to be a trap are dropped
    "crawler.middlewares.TrapMiddleware": 150,
    # Scrapy's retries 429/503 at once; ours waits for the Retry-After
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # a redirect back into its own chain fails at once, counted
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectLoopMiddleware": 600,
    # with NEWSFILTER_REDIS_URL: per-domain concurrency and delay across all
    # workers; last before the download, so a turn is held only while fetching
    "crawler.distributed.DomainLimitMiddleware": 950,
}

# The frontier: with JOBDIR, a SQLite database that a kill -9 cannot corrupt
# and that keeps every request until the engine is done with it (see
# crawler/scheduler.py); without JOBDIR, Scrapy's own scheduler.
SCHEDULER = "crawler.scheduler.FrontierScheduler"
# With NEWSFILTER_REDIS_URL the Distributed add-on replaces it by
# crawler.distributed.RedisScheduler (scrapy-redis's, with a reliable queue);
# these scrapy-redis settings are read only then.  The frontier (queue and
# seen fingerprints) stays in Redis when a worker closes: a rerun against the
# same Redis goes on where the last one stopped, and fetches nothing twice.
SCHEDULER_PERSIST = True
SCHEDULER_QUEUE_CLASS = "crawler.distributed.ReliableQueue"
# Downloads under way are aborted when the crawl stops (Ctrl-C), so that it
# stops in seconds; crawler/stopping.py
DOWNLOAD_HANDLERS = {
    "http": "crawler.stopping.StoppableHTTP11DownloadHandler",
    "https": "crawler.stopping.StoppableHTTP11DownloadHandler",
}

# Items: classify each page once, keep the article, drop listings and repeats
ITEM_PIPELINES = {
    "crawler.pipelines.ArticlePipeline": 300,
}
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"  # a listing page without a story is routine
EXTENSIONS = {
    "crawler.extensions.StatsFile": 500,  # on when NEWSFILTER_STATS_FILE is set
    "crawler.stopping.FastStop": 500,  # Ctrl-C drops queued and running downloads
    "crawler.warc.WarcArchive": 500,  # on when NEWSFILTER_WARC_DIR is set
}
ADDONS = {
    "crawler.addons.DefaultFeed": 0,  # NEWSFILTER_FEED when no feed is given
    "crawler.addons.Distributed": 0,  # NEWSFILTER_REDIS_URL: the shared frontier
}

# Feeds: UTF-8 JSONL, one item a line.  No FEEDS here: Scrapy merges the
# project's FEEDS with `-O`/`-o`, so a crawl with `-O out.jsonl` would write
# both.  The DefaultFeed add-on sets NEWSFILTER_FEED as the feed only when the
# command line gives none (`-o`, `-O`, `-s FEEDS=...`; `-s FEEDS={}`: none).
FEED_EXPORT_ENCODING = "utf-8"
NEWSFILTER_FEED = "feeds/%(name)s-%(time)s.jsonl"  # empty: no default feed
# JSON-lines feeds are written one fsynced line an item and agree with the
# job directory after any crash (crawler/feeds.py); a partial last line left
# by a crash is cut off before a resumed crawl appends.
FEED_EXPORTERS = {
    "jsonlines": "crawler.feeds.SyncedJsonLinesExporter",
    "jsonl": "crawler.feeds.SyncedJsonLinesExporter",
    "jl": "crawler.feeds.SyncedJsonLinesExporter",
}
FEED_STORAGES = {
    "": "crawler.feeds.SyncedFileFeedStorage",
    "file": "crawler.feeds.SyncedFileFeedStorage",
}
# fsync each feed line and seen record: survives power loss, not only a
# killed process (about 1 ms a story on a local disk).  False: flush only,
# which still survives kill -9.
NEWSFILTER_FEED_FSYNC = True
# the export record (what was exported, so nothing goes out twice): in JOBDIR,
# or in Redis when the Distributed add-on sets it
NEWSFILTER_EXPORT_JOURNAL = "crawler.feeds.ExportJournal"

# newsfilter
NEWSFILTER_SITES = "crawler/sites.toml"  # the sites file the `news` spider reads
NEWSFILTER_MODEL = ""  # block model path; empty: the shipped model
# The crawler's decision rule favours precision: a feed item should hold the
# story and nothing else.  The model card's rule (tuned for recall on the
# real dev pages, see README) is one `-s NEWSFILTER_THRESHOLD=-1
# -s NEWSFILTER_SWITCH_COST=-1` away.
NEWSFILTER_THRESHOLD = 0.5  # P(article) to keep a block; negative: the model card's
NEWSFILTER_SWITCH_COST = 0.0  # smoothing along the page; negative: the model card's
# A story page has an unbroken run of article text this long; a listing keeps
# only scattered fragments.  Briefs shorter than this are skipped.
NEWSFILTER_MIN_STORY_CHARS = 350
# Section and category (chrome) links lead to listings, which lead to stories:
# follow them, but only this many steps away from a story link.
NEWSFILTER_CHROME_DEPTH = 2
NEWSFILTER_TEASER_PRIORITY = 10  # teaser, sitemap and feed links point to stories: first
NEWSFILTER_CHROME_PRIORITY = -10  # chrome links lead to listings: last
NEWSFILTER_CLASSIFY = True  # False: plain crawl without the classifier (benchmark baseline)
# Site profiles (crawler/profiles.py): what repeats across a site's pages
# (menus, newsletter prompts, widget headings) is evidence for the site model,
# which revises the block model's labels for the feed.  A site's first pages
# are held back until it has classifier.profile.MIN_PAGES (8) of them, then
# classified with its profile; at the end of the crawl whatever is held is
# classified with what there is.  Links are always followed on the page's own
# labels.  False: each page is classified alone, as soon as it is fetched.
NEWSFILTER_SITE_PROFILE = True
NEWSFILTER_STATS_FILE = ""  # write the crawl stats here as JSON when it closes
# A 429 or 503 with Retry-After is retried after that many seconds (the host
# waits as well), within RETRY_TIMES.  A server that asks for longer than this
# is not waited for: the request is given up at once and counted in
# `newsfilter/retry_after/too_long`, so one overloaded site cannot stall the
# crawl for minutes.
NEWSFILTER_RETRY_AFTER_MAX = 60.0
# Crawler traps (crawler/traps.py), beside DEPTH_LIMIT, which cuts chains but
# not traps that fan out (a calendar month links to thirty days).  A URL
# pattern (digits as N: /calendar/N/N/N, /world?page=N) that has given this
# many pages and no story is not followed further; 0: no limit.  Story URL
# patterns give stories and are never cut.
NEWSFILTER_TRAP_PAGES = 50
# A path segment repeated more than this (/world/page/page/page/2, from a
# relative link resolved against the wrong base) is a trap; 0: no limit.
NEWSFILTER_TRAP_SEGMENT_REPEATS = 2
# The sitemap protocol allows 50 MB uncompressed: sitemaps, and what they
# unpack to, may be that large (pages: DOWNLOAD_MAXSIZE).
NEWSFILTER_SITEMAP_MAXSIZE = 50 * 1024 * 1024
# What one page may cost, by name (classifier.segment.Limits: bytes, nesting,
# nodes, blocks, block_chars, links, attr_chars); past a limit the page is cut
# and counted in newsfilter/truncated/<name>.  Empty: the classifier's
# defaults (bytes: 8 MiB, as DOWNLOAD_MAXSIZE).  -s 'NEWSFILTER_LIMITS={"blocks": 10000}'
NEWSFILTER_LIMITS: dict[str, int] = {}

# Distributed crawl (crawler/distributed.py).  redis://host:port/db: every
# `scrapy crawl` process given the same URL shares one frontier (queue and
# seen requests) and one record of exported stories, so any number of them,
# on one machine or many, crawl the sites together and no story is exported
# twice.  Empty: the single-process crawl (and JOBDIR) as above.
NEWSFILTER_REDIS_URL = ""
# Each worker says it is alive this often (seconds); one silent for
# NEWSFILTER_REDIS_WORKER_TIMEOUT is taken for dead: a live worker puts the
# requests it had taken back in the queue and frees the stories it had not
# written yet.  The timeout must exceed the longest stall of a live worker
# (a slow page to classify, a pause of the machine), or its work is done twice.
NEWSFILTER_REDIS_HEARTBEAT = 1.0
NEWSFILTER_REDIS_WORKER_TIMEOUT = 30.0
# Politeness across workers: Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN and
# DOWNLOAD_DELAY hold in each process, so N workers would send N times as
# many.  These hold for all workers together, per download slot (host): at
# most this many requests at once (0: no shared limit) ...
NEWSFILTER_REDIS_DOMAIN_CONCURRENCY = 2
# ... and at least this many seconds between two requests' starts (0: none).
NEWSFILTER_REDIS_DOMAIN_DELAY = 0.5

# WARC archive (crawler/warc.py): every response fetched is written to
# NEWSFILTER_WARC_DIR as it arrived (body still content-encoded), one gzip
# member a record, so that the archive can be re-extracted later with
# `python -m classifier extract DIR` without a recrawl.  Empty: no archive.
NEWSFILTER_WARC_DIR = ""
# A WARC file is closed and the next one started past this size (bytes; the
# IIPC's customary 1 GB).
NEWSFILTER_WARC_MAX_SIZE = 1_000_000_000

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
