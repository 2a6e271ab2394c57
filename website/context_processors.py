from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def operator(request: HttpRequest) -> dict[str, Any]:
    """Who hosts this instance and the version of its policies: footer, banner and policies."""
    return {
        "operator": {
            "name": settings.LEADPILOT_OPERATOR_NAME,
            "reg_no": settings.LEADPILOT_OPERATOR_REG_NO,
            "address": settings.LEADPILOT_OPERATOR_ADDRESS,
            "email": settings.LEADPILOT_OPERATOR_EMAIL,
        },
        "policy_version": settings.LEADPILOT_POLICY_VERSION,
        "policy_date": settings.LEADPILOT_POLICY_DATE,
    }
