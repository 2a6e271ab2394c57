"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """Drop the traceback from `django.request` records of 4xx answers.

    Django logs a view's PermissionDenied as "Forbidden (Permission denied): <path>" with the
    exception attached, so every 403 (a member opening an admin page, a read-only key writing)
    printed a full traceback, and error trackers took it for a crash. A 4xx is the client's
    mistake and the answer is the whole story: the record stays (level, message, status code), the
    traceback goes. 5xx records keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
