from tests.tenancy_registry import register_object
from webhooks.services import endpoint_create, endpoint_test_send


@register_object("webhook_id")
def make_webhook_endpoint(tenant):
    return endpoint_create(
        organization=tenant.org,
        url=f"http://127.0.0.1:9/{tenant.org.slug}-hooks",
        events=["lead.created"],
        description=f"{tenant.org.slug} CRM",
        created_by=tenant.admin,
    )


@register_object("webhook_delivery_id")
def make_webhook_delivery(tenant):
    endpoint = make_webhook_endpoint(tenant)
    return endpoint_test_send(organization=tenant.org, endpoint_id=endpoint.pk)
