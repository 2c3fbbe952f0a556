"""Spiders: `news` crawls configured sites, `pages` re-processes given URLs or files."""
