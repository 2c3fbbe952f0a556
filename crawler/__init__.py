"""Scrapy project: crawl regional news sites, keep only the article text."""
