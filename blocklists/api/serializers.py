"""Serializers of the block-list API: one per endpoint and direction."""

from __future__ import annotations

from rest_framework import serializers

from ..models import BlockEntry, BlockKind


class BlockEntryListSerializer(serializers.ModelSerializer):
    class Meta:
        model = BlockEntry
        fields = ["id", "kind", "value", "raw", "person", "note", "created_at"]
        read_only_fields = fields


class BlockEntryListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BlockKind.choices, required=False)
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=320, help_text="part of the normalised value"
    )


class BlockEntryCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BlockKind.choices)
    value = serializers.CharField(max_length=320)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BlockEntryCreatedSerializer(serializers.ModelSerializer):
    created = serializers.SerializerMethodField()

    class Meta:
        model = BlockEntry
        fields = ["id", "kind", "value", "raw", "person", "note", "created_at", "created"]
        read_only_fields = fields

    def get_created(self, obj: BlockEntry) -> bool:
        return bool(self.context.get("created"))


class BlockEntryDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = BlockEntry
        fields = ["id", "kind", "value", "raw", "person", "note", "created_at", "created_by"]
        read_only_fields = fields


class BlockEntryImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with columns kind,value[,country,note]")


class BlockEntryImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()


class BlockEntryImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="CSV line; null for the upload")
    field = serializers.CharField()
    message = serializers.CharField()


class BlockEntryImportFailedSerializer(serializers.Serializer):
    """400: nothing was written; every problem found, up to the reported limit."""

    errors = BlockEntryImportErrorSerializer(many=True)
    truncated = serializers.BooleanField(help_text="more problems exist than are listed")
    written = serializers.IntegerField(help_text="always 0: the import is all or nothing")
