"""API keys get a list of scopes (read, write, billing, admin) and a request count; idempotency
keys are stored per organisation. A write key keeps reading and writing (["read", "write"]); a
read-only key stays read-only (["read"]): a migration never widens what a key may do."""

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.db import migrations, models

import organizations.models


def scope_to_scopes(apps, schema_editor):
    key_model = apps.get_model("organizations", "OrganizationAPIKey")
    key_model._base_manager.filter(scope="read").update(scopes=["read"])
    key_model._base_manager.exclude(scope="read").update(scopes=["read", "write"])


def scopes_to_scope(apps, schema_editor):
    key_model = apps.get_model("organizations", "OrganizationAPIKey")
    for api_key in key_model._base_manager.all():
        api_key.scope = "write" if "write" in api_key.scopes else "read"
        api_key.save(update_fields=["scope"])


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0004_email_confirmation_and_terms"),
    ]

    operations = [
        migrations.AddField(
            model_name="organizationapikey",
            name="request_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="organizationapikey",
            name="scopes",
            field=models.JSONField(default=organizations.models.default_api_key_scopes),
        ),
        migrations.RunPython(scope_to_scopes, scopes_to_scope),
        migrations.RemoveField(
            model_name="organizationapikey",
            name="scope",
        ),
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=64)),
                ("method", models.CharField(max_length=8)),
                ("path", models.CharField(max_length=500)),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("body", models.TextField(blank=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organizations.organization",
                    ),
                ),
            ],
            options={
                "base_manager_name": "all_orgs",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "key"), name="idempotency_org_key"
                    )
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_orgs", django.db.models.manager.Manager()),
            ],
        ),
    ]
