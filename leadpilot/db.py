"""Database helpers shared by apps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Field, Model, Value


def bulk_create_values(manager: Any, objs: Sequence[Model], *, via: str, **kwargs: Any) -> Any:
    """`manager.bulk_create(objs, **kwargs)` as `INSERT ... VALUES (...), (...)`.

    On PostgreSQL Django inserts several rows as `INSERT ... SELECT * FROM UNNEST(%s::type[], ...)`,
    one array per column. With psycopg's client-side binding every value is then dumped twice
    (escaped as an array element, the array quoted as a literal), in Python: for the nightly
    search's few-row inserts of JSON documents (lead evidence, usage-event snapshots) that cost
    about as much CPU as the rest of the insert, in the worker and in PostgreSQL. Django keeps to
    VALUES when a row holds an expression, so the field `via` is passed as a Value for the insert
    and given back its plain value afterwards. Same rows, same defaults, same return value.
    """
    field = objs[0]._meta.get_field(via) if objs else None
    if field is not None and not isinstance(field, Field):
        raise TypeError(f"{via!r} is not a concrete field")
    plain = [getattr(obj, via) for obj in objs]
    for obj, value in zip(objs, plain, strict=True):
        setattr(obj, via, Value(value, output_field=field))
    try:
        return manager.bulk_create(objs, **kwargs)
    finally:
        for obj, value in zip(objs, plain, strict=True):
            setattr(obj, via, value)
