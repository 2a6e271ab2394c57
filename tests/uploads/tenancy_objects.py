import io

from tests.tenancy_registry import register_object
from uploads.services import UploadInput, upload_create


@register_object("upload_id")
def make_upload(tenant):
    content = b"Company number,Country\n00000777,GB\n"
    return upload_create(
        organization=tenant.org,
        created_by=tenant.admin,
        data=UploadInput(
            file=io.BytesIO(content),
            filename=f"{tenant.org.slug}-list.csv",
            size=len(content),
            kind="companies",
        ),
    )
