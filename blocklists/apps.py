from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_functions(sender: object, connection: object, **kwargs: object) -> None:
    """The embedded SQLite default gets the SQL functions PostgreSQL has from migration 0003."""
    if getattr(connection, "vendor", "") != "sqlite":
        return
    from .normalize import identifier_hash, name_key

    raw = connection.connection  # type: ignore[attr-defined]
    raw.create_function("lp_sha256_hex", 1, identifier_hash, deterministic=True)
    raw.create_function("lp_name_key", 1, name_key, deterministic=True)


class BlocklistsConfig(AppConfig):
    name = "blocklists"

    def ready(self) -> None:
        connection_created.connect(_sqlite_functions, dispatch_uid="blocklists_sqlite_functions")
