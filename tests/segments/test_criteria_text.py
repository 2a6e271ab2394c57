"""Criteria are text: a lone surrogate (what a JSON "\\ud800" escape decodes to) is refused by the
criteria validation itself, naming the criterion, whoever calls it (API, dashboard, a service).

PostgreSQL cannot store one and the preview query cannot send one: unchecked, the segment's save
or preview failed with a 500.
"""

from __future__ import annotations

import json

import pytest

from segments.criteria import CriteriaError, SegmentCriteria

LONE = json.loads('"ab\\ud800cd"')


@pytest.mark.parametrize(
    "criterion",
    ["countries", "industries", "regions", "municipalities", "postcode_prefixes", "name_keywords"],
)
def test_a_lone_surrogate_in_a_text_criterion_is_refused_naming_it(criterion):
    with pytest.raises(CriteriaError) as caught:
        SegmentCriteria.from_dict({criterion: ["GB", LONE]})
    assert list(caught.value.errors) == [criterion]
    message = caught.value.errors[criterion][0]
    assert "U+D800" in message
    message.encode("utf-8")  # the answer that carries it can be written


def test_an_unknown_criterion_with_a_lone_surrogate_is_named_in_printable_form():
    with pytest.raises(CriteriaError) as caught:
        SegmentCriteria.from_dict({LONE: 1})
    assert list(caught.value.errors) == ["ab\\ud800cd"]
    json.dumps(caught.value.errors, ensure_ascii=False).encode("utf-8")


def test_text_outside_ascii_is_still_text():
    criteria = SegmentCriteria.from_dict({"regions": ["Trøndelag"], "name_keywords": ["Café"]})
    assert criteria.regions == ("Trøndelag",)
