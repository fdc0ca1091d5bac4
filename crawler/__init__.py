"""Fetching and reading pages: the spider, the page parsers and the records they yield."""
