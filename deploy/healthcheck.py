"""Container health check of the web service: GET /healthz on gunicorn inside the container.

It asks as the TLS proxy does (a host from DJANGO_ALLOWED_HOSTS, X-Forwarded-Proto https): plain
http://127.0.0.1 would be redirected to HTTPS (DJANGO_SECURE_SSL_REDIRECT) or refused as an
unknown host, and the container would never turn healthy. Exit 0 when the database and the broker
answer, 1 otherwise. Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def healthcheck_headers(environ: dict[str, str]) -> dict[str, str]:
    """The headers the TLS proxy would send for a request to the first allowed host."""
    hosts = [h.strip() for h in environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts else "localhost"
    if host == "*" or not host:
        host = "localhost"
    return {"Host": host, "X-Forwarded-Proto": "https"}


def main() -> int:
    port = os.environ.get("PORT", "8000")
    # A fixed http URL on loopback, not user input.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers=healthcheck_headers(dict(os.environ))
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
