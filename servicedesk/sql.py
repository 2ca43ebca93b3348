"""Statements built once per process, for the few that run on every order an outside system
creates (the IVR, the switch and the service halls send hundreds a second at peak).

Django compiles a query's SQL anew each time it runs: 0.3–0.5 ms of Python for a lookup by
key or the insert of a wide row — more than the database spends running it, and most of
what an API create cost. The SQL of these statements depends only on the model, so it is
built once, from the model's own metadata (a new field needs no change here), and each call
only converts the values, exactly as the ORM does: `get_db_prep_save` on the way in, the
backend's and the field's converters on the way out.

What the ORM would do besides and these don't: send `pre_save`/`post_save` signals (the
project uses none for domain flow) and run in a database other than the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _columns(model: type[Model]) -> tuple[tuple[Field, ...], str]:
    """The model's concrete fields and their qualified columns, in one SELECT list."""
    fields = tuple(model._meta.concrete_fields)
    table = _qn(model._meta.db_table)
    return fields, ", ".join(f"{table}.{_qn(f.column)}" for f in fields)


@cache
def _converters(model: type[Model]) -> tuple[tuple[int, tuple[Callable, ...], Field], ...]:
    """(position, converters, field) of the columns whose database value needs converting."""
    fields, _ = _columns(model)
    found = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        functions = (*connection.ops.get_db_converters(column), *field.get_db_converters(connection))
        if functions:
            found.append((position, tuple(functions), column))
    return tuple(found)


def _instance(model: type[M], row: Sequence[Any]) -> M:
    values = list(row)
    for position, functions, column in _converters(model):
        value = values[position]
        for function in functions:
            value = function(value, column, connection)
        values[position] = value
    fields, _ = _columns(model)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def select_one(
    model: type[M], *, where: str, params: Sequence[Any], parent: str | None = None
) -> M | None:
    """The first row of `model` WHERE `where` (columns of the model's table, %s placeholders),
    or None. `parent` names a foreign key whose row comes in the same query, as with
    `select_related` (the key must not be null)."""
    fields, columns = _columns(model)
    table = _qn(model._meta.db_table)
    joined = ""
    if parent is not None:
        relation = model._meta.get_field(parent)
        parent_model = relation.related_model
        parent_fields, parent_columns = _columns(parent_model)
        columns = f"{columns}, {parent_columns}"
        joined = (
            f" INNER JOIN {_qn(parent_model._meta.db_table)} ON "
            f"{_qn(parent_model._meta.db_table)}.{_qn(relation.target_field.column)} = "
            f"{table}.{_qn(relation.column)}"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}{joined} WHERE {where} LIMIT 1", params)
        row = cursor.fetchone()
    if row is None:
        return None
    instance = _instance(model, row[: len(fields)])
    if parent is not None:
        instance._state.fields_cache[parent] = _instance(parent_model, row[len(fields) :])
    return instance


@cache
def _insert_sql(model: type[Model], with_pk: bool, rows: int) -> tuple[tuple[Field, ...], str]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(_qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {_qn(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"
    if not with_pk:
        sql += f" RETURNING {_qn(meta.pk.column)}"
    return fields, sql


def insert(*instances: Model) -> None:
    """INSERT the new rows of `instances` (all of one model, all with or all without a
    primary key) in one statement, as `save(force_insert=True)` would; primary keys the
    instances do not have yet are set from the database, in order."""
    if not instances:
        return
    model, with_pk = type(instances[0]), instances[0].pk is not None
    fields, sql = _insert_sql(model, with_pk, len(instances))
    values = [
        f.get_db_prep_save(f.pre_save(instance, True), connection)
        for instance in instances
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if not with_pk:
            for instance, (pk,) in zip(instances, cursor.fetchall(), strict=True):
                instance.pk = pk
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
