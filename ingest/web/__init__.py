"""Web pages and sitemaps as documents: fetching, crawling, conditional re-fetching."""
