"""The HTTP side: form decoding, auth, Idempotency-Key replay, faults, the control API."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import resources
from .state import Faults, StripeError, StripeState


def decode_form(body: str) -> dict[str, Any]:
    """`a[b][0][c]=1` → {"a": {"b": [{"c": "1"}]}}, as stripe-python encodes nested params."""
    root: dict[str, Any] = {}
    for key, value in urllib.parse.parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _public(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        content_type = "text/html" if isinstance(body, bytes) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_fake{time.monotonic_ns()}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if url.path.startswith("/_fake/") or not url.path.startswith("/v1/"):
            self._control(method, url.path, raw)
            return
        params = decode_form(raw if method == "POST" else url.query)
        status, body, headers = self.server.fake.handle(
            method, url.path, params, dict(self.headers.items())
        )
        if status == -1:  # a timeout fault: answer far too late
            time.sleep(self.server.fake.state.faults.timeout_s)
            status = 500
        self._reply(status, body, headers)

    def _control(self, method: str, path: str, raw: str) -> None:
        fake, state = self.server.fake, self.server.fake.state
        data = json.loads(raw) if raw.strip().startswith("{") else {}
        try:
            with state.lock:
                if (method, path) == ("GET", "/_fake/state"):
                    body: Any = fake.summary()
                elif (method, path) == ("POST", "/_fake/reset"):
                    state.reset()
                    body = fake.summary()
                elif (method, path) == ("POST", "/_fake/faults"):
                    body = fake.set_faults(**data).__dict__
                elif (method, path) == ("POST", "/_fake/clock"):
                    state.offset += float(data.get("advance", 0))
                    if "now" in data:
                        state.offset = float(data["now"]) - state._clock()
                    body = {"now": state.now()}
                elif (method, path) == ("POST", "/_fake/webhooks"):
                    state.webhook_url, state.webhook_secret = data["url"], data["secret"]
                    body = {"url": state.webhook_url}
                elif (method, path) == ("GET", "/_fake/meter_events"):
                    body = {"data": _public(state.meter_events), "duplicates": state.duplicates}
                elif (method, path) == ("GET", "/_fake/requests"):
                    body = {"data": state.requests}
                elif method == "POST" and path.startswith("/_fake/checkout/"):
                    cid = path.split("/")[3]
                    body = _public(resources.checkout_complete(state, cid))
                elif method == "POST" and path.startswith("/_fake/subscriptions/"):
                    sub = state.get("subscription", path.split("/")[3])
                    start, end = sub["current_period_start"], sub["current_period_end"]
                    body = _public(resources.invoice_for_period(state, sub, start=start, end=end))
                    sub["current_period_start"] = end
                    sub["current_period_end"] = resources._month_after(end)
                elif method == "GET" and path.startswith(("/checkout/", "/portal/", "/invoices/")):
                    self._reply(200, _page(path))
                    return
                elif method == "POST" and path.startswith("/checkout/"):
                    session = resources.checkout_complete(state, path.split("/")[2])
                    self._reply(303, b"", {"Location": session["success_url"]})
                    return
                else:
                    raise StripeError(f"Unrecognized request URL ({method}: {path}).", status=404)
        except StripeError as exc:
            self._reply(exc.status, exc.body)
            return
        self._reply(200, body)


def _page(path: str) -> bytes:
    kind, _, obj_id = path.strip("/").partition("/")
    action = (
        f'<form method="post" action="/checkout/{obj_id}"><button>Pay (fake)</button></form>'
        if kind == "checkout"
        else ""
    )
    return f"<!doctype html><title>Fake Stripe</title><h1>Fake Stripe {kind}</h1><p>{obj_id}</p>{action}".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeStripe


class FakeStripe:
    """`with FakeStripe() as fake: StripeClient("sk_test_x", base_addresses={"api": fake.url})`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Any = None,
        webhook_url: str = "",
        webhook_secret: str = "",
        faults: Faults | None = None,
    ) -> None:
        self.state = StripeState(clock=clock)
        self.state.webhook_url, self.state.webhook_secret = webhook_url, webhook_secret
        if faults is not None:
            self.state.faults = faults
            self.state.rng.seed(faults.seed)
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        resources.PUBLIC_BASE["url"] = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> FakeStripe:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, **values: Any) -> Faults:
        if "paths" in values:
            values["paths"] = tuple(values["paths"])
        with self.state.lock:
            self.state.faults = Faults(**values)
            self.state.rng.seed(self.state.faults.seed)
        return self.state.faults

    def summary(self) -> dict[str, Any]:
        state = self.state
        with state.lock:
            kinds: dict[str, int] = {}
            for obj in state.objects.values():
                kinds[obj["object"]] = kinds.get(obj["object"], 0) + 1
            return {
                "now": state.now(),
                "objects": kinds,
                "meter_events": len(state.meter_events),
                "meter_events_cancelled": sum(e["_cancelled"] for e in state.meter_events),
                "duplicates": state.duplicates,
                "requests": len(state.requests),
                "webhooks_sent": list(state.webhooks_sent),
            }

    def handle(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        """One API request: auth, faults, idempotency, the resource. Status -1 = time out."""
        state = self.state
        headers = {k.lower(): v for k, v in headers.items()}
        faults = state.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer sk_test_"):
            error = StripeError(
                "Invalid API Key provided.", status=401, type="invalid_request_error"
            )
            return 401, error.body, {}
        key = headers.get("idempotency-key", "")
        with state.lock:
            roll = state.rng.random() if faults.applies(path) else 1.0
            log = {"method": method, "path": path, "idempotency_key": key, "at": state.now()}
            state.requests.append(log)
            retry = {"Stripe-Should-Retry": "true"}
            if roll < faults.rate_limit_rate:
                log["status"] = 429
                error = StripeError("Too many requests.", status=429, type="rate_limit_error")
                return 429, error.body, {**retry, "Retry-After": str(faults.retry_after_s)}
            roll -= faults.rate_limit_rate
            if roll < faults.error_rate:
                log["status"] = 500
                return 500, StripeError("Fake outage.", status=500, type="api_error").body, retry
            roll -= faults.error_rate
            status, body, replayed = self._idempotent(method, path, params, key)
            log["status"] = status
            extra = {"Idempotent-Replayed": "true"} if replayed else {}
            if key:
                extra["Idempotency-Key"] = key
            if roll < faults.lose_rate:
                log["lost"] = True
                return 500, StripeError("Response lost.", status=500, type="api_error").body, retry
            if roll - faults.lose_rate < faults.timeout_rate:
                log["lost"] = True
                return -1, body, extra
            return status, body, extra

    def _idempotent(
        self, method: str, path: str, params: dict[str, Any], key: str
    ) -> tuple[int, Any, bool]:
        state = self.state
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        if method == "POST" and key:
            cached = state.idempotency.get((path.split("/")[1], key))
            if cached is not None:
                if cached[0] != fingerprint:
                    error = StripeError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                    )
                    return 400, error.body, False
                return cached[1], cached[2], True
        status, body = self._dispatch(method, path, params)
        if method == "POST" and key and status < 500:
            state.idempotency[(path.split("/")[1], key)] = (fingerprint, status, body)
        return status, body, False

    def _dispatch(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        for route_method, pattern, handler in resources.ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                try:
                    return 200, _public(handler(self.state, params, *match.groups()))
                except StripeError as exc:
                    return exc.status, exc.body
        error = StripeError(f"Unrecognized request URL ({method}: {path}).", status=404)
        return 404, error.body
