"""Page decoding and parsing: declared charsets, detection when none is declared, text blocks
with their links, scripts ignored."""

from enrichment.web.parse import body_decode, page_parse, same_site

SWEDISH = (
    "<html><body><h2>Våra medarbetare</h2><p>Åsa Öberg, Verkställande direktör</p></body></html>"
)


def test_the_declared_charset_wins_then_meta_then_detection():
    latin1 = SWEDISH.encode("latin-1")
    assert body_decode(latin1, "text/html; charset=ISO-8859-1") == SWEDISH
    meta = "<meta charset='iso-8859-1'>" + SWEDISH
    assert body_decode(meta.encode("latin-1"), "text/html") == meta
    assert body_decode(SWEDISH.encode("utf-8"), "text/html") == SWEDISH  # detected
    assert "Åsa Öberg" in body_decode((SWEDISH * 5).encode("cp1252"), "")  # detected
    assert body_decode(b"caf\xc3\xa9", "text/html; charset=nonsense") == "café"  # bad label


def test_blocks_keep_their_links_and_scripts_are_ignored():
    page = page_parse(
        "https://www.x.no/om-oss",
        200,
        "<script>var tel='+47 99 99 99 99'</script><ul><li>Kari Nordmann, CEO "
        "<a href='tel:+4791234567'>912 34 567</a> <a href='mailto:Kari@X.no?subject=hi'>e-post"
        "</a></li></ul><p>Ring +47 22 33 44 55</p><a href='../kontakt'>Kontakt</a>"
        "<a href='mailto:post@x.no'>post</a>",
    )
    kari = next(b for b in page.blocks if "Kari" in b.text)
    assert kari.phones == ("+4791234567",) and kari.emails == ("kari@x.no",)
    ring = next(b for b in page.blocks if b.text.startswith("Ring"))
    assert ring.phones == ("+47 22 33 44 55",)  # a number in text, no tel: link
    assert "+47 99 99 99 99" not in page.text
    assert [link.url for link in page.links] == ["https://www.x.no/kontakt"]
    assert page.emails == ["kari@x.no", "post@x.no"]


def test_the_same_site_is_the_domain_and_its_www_name():
    assert same_site("www.nordlys.no", "nordlys.no") and same_site("NORDLYS.NO.", "nordlys.no")
    assert not same_site("shop.nordlys.no", "nordlys.no")
    assert not same_site("nordlys.no.evil.com", "nordlys.no")
