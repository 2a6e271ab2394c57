"""Reading the API's RFC 9457 problem answers in tests."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The problem body, after checking what every error answer must carry."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/api/problems/") and body["title"] and body["detail"]
    return body


def field_errors(response: Any, status: int = 400) -> dict[str, list[str]]:
    """{field: [message, ...]} of a validation problem (field "" for the request as a whole)."""
    errors: dict[str, list[str]] = {}
    for error in problem_of(response, status)["errors"]:
        errors.setdefault(error["field"], []).append(error["message"])
    return errors
