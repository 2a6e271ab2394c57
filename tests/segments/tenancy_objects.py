from segments.services import segment_create
from tests.tenancy_registry import register_object


@register_object("segment_id")
def make_segment(tenant):
    return segment_create(
        organization=tenant.org,
        created_by=tenant.admin,
        name=f"{tenant.org.slug} segment",
        criteria={"countries": ["GB"]},
    )
