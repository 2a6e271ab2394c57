"""One serializer per endpoint and direction. Serializers parse and render; rules live in services."""

from __future__ import annotations

from rest_framework import serializers

from ..models import (
    APIKeyScope,
    DeliveryMode,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    Role,
)


class OrganizationDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "slug",
            "name",
            "timezone",
            "delivery_mode",
            "leads_per_day",
            "working_days",
            "night_hour",
            "created_at",
        ]
        read_only_fields = fields


class OrganizationSettingsUpdateSerializer(serializers.Serializer):
    """PATCH body: any subset of the settings. Validated in full by the service."""

    name = serializers.CharField(max_length=200, required=False)
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA name.")
    delivery_mode = serializers.ChoiceField(choices=DeliveryMode.choices, required=False)
    leads_per_day = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    working_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        allow_empty=False,
        required=False,
        help_text="Weekday numbers, 0 = Monday … 6 = Sunday.",
    )
    night_hour = serializers.IntegerField(min_value=0, max_value=23, required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                dict.fromkeys(sorted(unknown), "This field cannot be changed.")
            )
        return attrs


class MemberListSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "joined_at"]
        read_only_fields = fields


class APIKeyListSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="prefix", help_text="The key's prefix; use it in URLs.")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True)

    class Meta:
        model = OrganizationAPIKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created",
            "created_by",
            "last_used_at",
            "request_count",
            "revoked",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "last_used_at": {"help_text": "Updated at most once a minute."},
            "request_count": {"help_text": "Requests made with the key, counted once a minute."},
        }

    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=APIKeyScope.choices),
        help_text="read: GET of ordinary endpoints; write: their POST/PATCH/DELETE; billing: "
        "usage, billing, invoices, bounces and disputes; admin: members, invitations, keys.",
    )


class APIKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    scopes = serializers.MultipleChoiceField(
        choices=APIKeyScope.choices,
        required=False,
        help_text="Default read and write. Only an owner may give the billing scope.",
    )
    scope = serializers.ChoiceField(
        choices=[APIKeyScope.READ, APIKeyScope.WRITE],
        required=False,
        help_text="Deprecated: use scopes. write means read and write.",
    )

    def validate(self, attrs: dict) -> dict:
        if "scopes" in attrs:
            attrs["scopes"] = sorted(attrs["scopes"])
        return attrs


class APIKeyCreatedSerializer(APIKeyListSerializer):
    key = serializers.CharField(help_text="The full key. Shown in this response only.")

    class Meta(APIKeyListSerializer.Meta):
        fields = [*APIKeyListSerializer.Meta.fields, "key"]
        read_only_fields = fields


class APIKeyRevokedSerializer(APIKeyListSerializer):
    pass


class MemberDetailSerializer(MemberListSerializer):
    pass


class MemberRoleUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationListSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class InvitationCreatedSerializer(InvitationListSerializer):
    pass


class InvitationRevokedSerializer(InvitationListSerializer):
    revoked_at = serializers.DateTimeField()

    class Meta(InvitationListSerializer.Meta):
        fields = [*InvitationListSerializer.Meta.fields, "revoked_at"]
        read_only_fields = fields
