"""National industry codes normalise to NACE Rev. 2 classes; non-activities do not."""

import pytest

from enrichment import nace


@pytest.mark.parametrize(
    ("raw", "system", "expected"),
    [
        ("62012", nace.UK_SIC2007, 6201),
        ("01110", nace.UK_SIC2007, 111),
        ("99999", nace.UK_SIC2007, None),  # dormant
        ("74990", nace.UK_SIC2007, None),  # non-trading
        ("98000", nace.UK_SIC2007, None),  # residents property management
        ("7499", nace.UK_SIC2007, None),  # legacy SIC 2003
        ("43.210", nace.SN2007, 4321),
        ("00.000", nace.SN2007, None),  # not yet classified
        ("62.100", nace.SN2007, None),  # a Rev. 2.1 class, not Rev. 2
        ("62010", nace.SNI2007, 6201),
        ("463100", nace.DB07, 4631),
        ("62010", nace.TOL2008, 6201),
        ("", nace.SNI2007, None),
        ("6201x", nace.SNI2007, None),
    ],
)
def test_codes_normalise_to_nace_classes(raw, system, expected):
    assert nace.nace_class_from_code(raw=raw, system=system) == expected


def test_sections_labels_and_class_list():
    assert nace.nace_section(6201) == "J"
    assert nace.nace_section(111) == "A"
    assert nace.nace_section(4) is None  # 04 is not a division
    assert nace.nace_section_label("F") == "Construction"
    assert len(nace.nace_classes()) == 615
    assert nace.nace_class_label(4321) == "Electrical installation"


@pytest.mark.parametrize(
    ("text", "raw", "cls"),
    [
        ("62012 - Business and domestic software development", "62012", 6201),
        ("7499 - Non-trading company", "7499", None),
        ("99999 - Dormant Company", "99999", None),
        ("None Supplied", None, None),
        ("", None, None),
        ("something odd", "something odd", None),
    ],
)
def test_companies_house_sic_text(text, raw, cls):
    parsed = nace.uk_sic_parse(text)
    if raw is None:
        assert parsed is None
    else:
        assert (parsed.raw, parsed.nace_class) == (raw, cls)
