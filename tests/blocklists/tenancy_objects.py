from blocklists.services import block_entry_add
from tests.tenancy_registry import register_object


@register_object("entry_id")
def make_block_entry(tenant):
    entry, _created = block_entry_add(
        organization=tenant.org,
        kind="domain",
        value=f"{tenant.org.slug}-blocked.example.com",
        created_by=tenant.admin,
    )
    return entry
