"""A fetched page read with a real HTML parser (selectolax/Lexbor) instead of regexes.

A page is cut into text blocks the way contact and team pages print people: a block starts at
each block-level element (list item, paragraph, table row or cell, heading, division…), so
"Kari Nordmann, Daglig leder · +47 912 34 567" in one list item is one block, with its `tel:`
and `mailto:` links. Bodies are decoded by the charset the server or the page declares, else
the one charset-normalizer detects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlsplit

from charset_normalizer import from_bytes
from selectolax.lexbor import LexborHTMLParser

BLOCK_TAGS = frozenset(
    {"li", "p", "tr", "td", "th", "div", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "br",
     "section", "article", "footer", "header", "address", "figure", "figcaption", "blockquote",
     "ul", "ol", "dl", "table", "main", "nav", "aside", "body"}
)  # fmt: skip
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE_TEXT = re.compile(r"\+\d[\d \-()]{6,18}\d")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_\-]+)", re.I)


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@dataclass(frozen=True)
class Block:
    """The plain text of one block, with the numbers and addresses it carries."""

    text: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass
class WebPage:
    url: str
    status: int
    text: str  # the page's plain text
    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def names_registry_id(self, registry_id: str) -> bool:
        wanted = digits(registry_id)
        if len(wanted) < 5:
            return False
        return any(digits(c) == wanted for c in re.findall(r"\d[\d .\-]{3,20}\d", self.text))


WESTERN_CODECS = ["cp1252", "iso8859_15", "latin_1", "iso8859_10", "cp850"]


def body_decode(body: bytes, content_type: str = "") -> str:
    """The declared charset (Content-Type, else <meta charset>), else UTF-8 if the bytes are
    valid UTF-8, else charset-normalizer's best guess among Western European code pages (any
    code page if none fits), else cp1252 with replacement characters."""
    declared = None
    if content_type:
        msg = Message()
        msg["content-type"] = content_type
        declared = msg.get_param("charset")
    if not declared:
        m = _META_CHARSET.search(body[:4096])
        declared = m.group(1).decode("ascii", "replace") if m else None
    if isinstance(declared, str):
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Undeclared and not UTF-8: our markets' sites are in Western European code pages; the
    # detector, free to pick any, reads short Scandinavian pages as Mac or Cyrillic ones.
    best = from_bytes(body, cp_isolation=WESTERN_CODECS).best() or from_bytes(body).best()
    if best is not None:
        return str(best)
    return body.decode("cp1252", "replace")


def _clean(text: str) -> str:
    return " ".join(text.split())


def page_parse(url: str, status: int, html_text: str) -> WebPage:
    tree = LexborHTMLParser(html_text)
    for bad in tree.css("script, style, noscript, template"):
        bad.decompose()
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node is not None else ""
    blocks: list[Block] = []
    links: list[Link] = []
    emails: dict[str, None] = {}
    cur_text: list[str] = []
    cur_phones: list[str] = []
    cur_emails: list[str] = []

    def flush() -> None:
        text = _clean(" ".join(cur_text))
        phones = list(cur_phones) or _PHONE_TEXT.findall(text)
        found = list(dict.fromkeys([*cur_emails, *(e.lower() for e in _EMAIL.findall(text))]))
        if text or phones or found:
            blocks.append(Block(text=text, phones=tuple(phones), emails=tuple(found)))
        cur_text.clear()
        cur_phones.clear()
        cur_emails.clear()

    root = tree.body or tree.root
    if root is not None:
        for node in root.traverse(include_text=True):
            tag = node.tag
            if tag == "-text":
                cur_text.append(node.text_content or "")
                continue
            if tag in BLOCK_TAGS:
                flush()
            elif tag == "a":
                href = (node.attributes.get("href") or "").strip()
                low = href.lower()
                if low.startswith("tel:"):
                    cur_phones.append(href[4:].strip())
                elif low.startswith("mailto:"):
                    cur_emails.append(href[7:].split("?", 1)[0].strip().lower())
                elif href and not low.startswith(("javascript:", "#", "data:")):
                    links.append(Link(url=urljoin(url, href), text=_clean(node.text())))
        flush()
    for block in blocks:
        for e in block.emails:
            emails[e.rstrip(".")] = None
    phones = list(dict.fromkeys(p for b in blocks for p in b.phones))
    text = "\n".join(b.text for b in blocks)
    return WebPage(
        url=url,
        status=status,
        text=text,
        title=title,
        blocks=blocks,
        links=links,
        emails=sorted(emails),
        phones=phones,
    )


def same_site(host: str, domain: str) -> bool:
    """`host` is the company's site: the domain itself or its www. name."""
    host = host.lower().rstrip(".")
    return host in (domain, f"www.{domain}")


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
