"""`POST /stripe/webhook/`: Stripe's events in. Verified, stored once by id and answered at once;
the work happens in the task `billing.stripe_event_process` (billing/subscriptions.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .subscriptions import WebhookRejected, stripe_event_receive


@csrf_exempt  # Stripe signs the body instead (STRIPE_WEBHOOK_SECRET)
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event, stored = stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRejected as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"received": event.id, "duplicate": not stored})
