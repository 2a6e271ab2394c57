"""Company websites fetched as a polite browser would (docs/verification.md, "Websites").

`SiteFetcher.site_visit(domain)` reads a company's home page over HTTPS (falling back to plain
HTTP), follows at most MAX_REDIRECTS same-site redirects, honours robots.txt, waits between two
requests to one site, stops a body at the size limit and a request at the time limit, and then
reads a few of the site's own contact/about/team pages. The result (`SiteVisit`) says whether the
site exists (`ok`), does not (`no_site`: the name has no address, or no page answered 200) or
could not be reached tonight (`unreachable`: DNS failure, refused connection, TLS error,
time-out): an outage is never a fact about the company. Every page read or skipped is recorded
with its reason.
"""

from enrichment.web.fetch import SiteFetcher, SiteVisit, WebConfig
from enrichment.web.parse import Block, WebPage, page_parse

__all__ = ["Block", "SiteFetcher", "SiteVisit", "WebConfig", "WebPage", "page_parse"]
