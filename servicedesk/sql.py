"""Statements built once per process, for the few that run on every order an outside system
creates (the IVR, the switch and the service halls send hundreds a second at peak).

Django compiles a query's SQL anew each time it runs: 0.3–0.5 ms of Python for a lookup by
key or the insert of a wide row — more than the database spends running it, and most of
what an API create cost. The SQL of these statements depends only on the model, so it is
built once, from the model's own metadata (a new field needs no change here), and each call
only converts the values, exactly as the ORM does: `get_db_prep_save` on the way in, the
backend's and the field's converters on the way out.

On PostgreSQL each statement is also prepared, once per database session (`PREPARE`, then
`EXECUTE`): the server then skips parsing and planning it, which was two fifths of what
the database spent on a create. Prepared statements live as long as the session, so a
connection pooler in transaction mode (PgBouncer's default) must not sit between the app
and the database — the app keeps its own connections (CONN_MAX_AGE).

Two more savings on PostgreSQL, for the same reason (a round trip to the server costs
both sides more than the small statements it carries):

- New rows get their primary key from the table's sequence ahead of the insert, drawn a
  block at a time per database session (`new_id`), so an insert needs no `RETURNING`
  and an order knows its number before it is written.
- Inside `deferred_writes()` (a transaction's block), an insert is not sent on its own:
  it travels with the next statement of the block, in the same round trip, or with the
  block's end. An API create sends its order, timeline event, SLA timer and
  Idempotency-Key in one round trip instead of four.
- `atomic_writes()` is a transaction of its own whose inserts wait so: when nothing else
  was sent by its end, they go as one text without BEGIN and COMMIT — PostgreSQL runs
  the statements of one text as one transaction, all or none — two round trips fewer.

New instances for these inserts are built by `new(Model, **values)`, which puts the values
where `Model.__init__` would without its walk over every field (a wide order: a third of
the time).

What the ORM would do besides and these don't: send `pre_save`/`post_save` signals (the
project uses none for domain flow) and run in a database other than the default.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.signals import post_init, pre_init
from psycopg2.extensions import TRANSACTION_STATUS_IDLE as _IDLE

M = TypeVar("M", bound=Model)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass(frozen=True)
class _Statement:
    sql: str  # with %s placeholders, as any backend takes it
    name: str  # its name as a prepared statement: kind, table and a hash of the text
    prepare: str  # PREPARE <name> AS <the text with $1, $2 …>
    execute: str  # EXECUTE <name> (%s, …): what runs it, with the same parameters as `sql`


def _statement(kind: str, table: str, sql: str) -> _Statement:
    pieces = sql.split("%s")
    numbered = pieces[0] + "".join(f"${n}{piece}" for n, piece in enumerate(pieces[1:], start=1))
    digest = hashlib.sha1(sql.encode()).hexdigest()[:10]
    name = f"sd_{kind}_{table}"[:50] + f"_{digest}"
    parameters = len(pieces) - 1
    execute = f"EXECUTE {name} ({', '.join(['%s'] * parameters)})" if parameters else f"EXECUTE {name}"
    return _Statement(sql, name, f"PREPARE {name} AS {numbered}", execute)


# Per database session (the DB-API connection): the names of the statements prepared on it.
# A new session (Django reconnected) starts with none; prepared statements outlive the
# rollback of the transaction that prepared them, so a name is kept once PREPARE succeeded.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@cache
def _custom(kind: str, table: str, sql: str) -> _Statement:
    return _statement(kind, table, sql)


def execute(cursor: Any, *, kind: str, table: str, sql: str, params: Sequence[Any] = ()) -> None:
    """Run a hand-written statement of the hot path (%s placeholders) on `cursor`, prepared
    on PostgreSQL like the others; `kind` and `table` name it in the database's views."""
    _execute(cursor, _custom(kind, table, sql), params)


def _prepare_once(db: Any, raw_cursor: Any, statement: _Statement) -> None:
    """PREPARE `statement` on the database session of `db` unless done before on it.

    On a DB-API cursor, past Django's wrapper: a once-per-session step, not a query of the
    request (the tests that count a page's queries would otherwise count it, or not, by the
    order they run in). Raises the driver's error when the server refuses the statement.
    """
    names = _prepared.get(db.connection)
    if names is None:
        names = _prepared[db.connection] = set()
    if statement.name not in names:
        with _no_transaction_opened(db.connection):
            raw_cursor.execute(statement.prepare)
        names.add(statement.name)


@contextmanager
def _no_transaction_opened(raw: Any) -> Iterator[None]:
    """Run the block's statements in autocommit if no transaction is open on the DB-API
    connection `raw`: for a session's bookkeeping (preparing a statement, drawing keys, both
    kept whatever the transaction does), which must not open the transaction of a block that
    has sent nothing yet — `atomic_writes` then saves its BEGIN and COMMIT."""
    if raw.autocommit or raw.info.transaction_status != _IDLE:
        yield
        return
    raw.autocommit = True  # no transaction is open: the driver sends nothing for this
    try:
        yield
    finally:
        raw.autocommit = False


def _execute(cursor: Any, statement: _Statement, params: Sequence[Any]) -> None:
    if cursor.db.vendor != "postgresql":
        cursor.execute(statement.sql, params)
        return
    _prepare_once(cursor.db, cursor.cursor, statement)
    cursor.execute(statement.execute, params or None)


# Statements run through `prepared_reads` that PostgreSQL refused to prepare (a parameter
# whose type it cannot work out): those run as sent, without a second try each time.
_unpreparable: set[str] = set()
# Distinct statement texts `prepared_reads` keeps a name for: a list's SQL varies with the
# filters given and the page size, a bounded set, but the bound is kept explicit.
_MAX_PREPARED_READS = 512
_read_statements: dict[str, _Statement] = {}


def _prepared_read(execute, sql, params, many, context):
    """An execute wrapper: a SELECT runs as a prepared statement."""
    cursor = context["cursor"]
    if many or not sql.startswith("SELECT") or "%%" in sql or sql in _unpreparable:
        return execute(sql, params, many, context)
    statement = _read_statements.get(sql)
    if statement is None:
        if len(_read_statements) >= _MAX_PREPARED_READS:
            return execute(sql, params, many, context)
        statement = _read_statements[sql] = _statement("read", "q", sql)
    db = context["connection"]
    try:
        _prepare_once(db, cursor.cursor, statement)
    except db.Database.Error:
        # Outside a transaction (a list is a plain read) nothing else is affected; the
        # statement runs as sent from now on.
        if db.in_atomic_block:
            raise
        _unpreparable.add(sql)
        del _read_statements[sql]
        return execute(sql, params, many, context)
    return execute(statement.execute, params or None, many, context)


@contextmanager
def prepared_reads() -> Iterator[None]:
    """Run the SELECTs inside the block — built by the ORM as usual — as statements prepared
    once per database session: PostgreSQL then skips planning each, which cost a list page
    more than running it (three joins, a table with many indexes). Elsewhere a no-op.

    For reads that run many times a second with the same shape and other values; the
    server's generic plan then serves every value, so use it where one plan suits all (an
    ordered range scan under a LIMIT does).
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        yield
        return
    with db.execute_wrapper(_prepared_read):
        yield


# --- Keys drawn ahead ------------------------------------------------------------------------

# Keys drawn per statement: one round trip per this many new rows of a table. Keys drawn and
# not used (the process ends) are gaps in the ids, as a rolled-back insert leaves anyway.
ID_BLOCK = 32
# Per database session, per table: the keys drawn and not used yet, highest first. Tied to
# the session, so a test database made anew (or a sequence reset by hand, then a reconnect)
# never gets keys of a sequence that no longer exists.
_drawn: weakref.WeakKeyDictionary[Any, dict[str, list[int]]] = weakref.WeakKeyDictionary()


@cache
def _draw_sql(table: str, column: str) -> _Statement:
    return _statement(
        "ids",
        table,
        f"SELECT nextval(pg_get_serial_sequence('{table}', '{column}')) "
        "FROM generate_series(1, %s)",
    )


def new_id(model: type[Model]) -> int | None:
    """A primary key for a new row of `model`, from its table's sequence; None where the
    database has no sequence to draw from (SQLite: the insert assigns it) or the key is not
    a sequence's.

    Keys of one process come in ascending order; rows written at once by several processes
    may get theirs out of the order of their writing, as with any shared sequence.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not isinstance(model._meta.pk, AutoFieldMixin):
        return None
    if db.connection is None:
        db.ensure_connection()  # the session's keys are looked up by its DB-API connection
    tables = _drawn.get(db.connection)
    if tables is None:
        tables = _drawn[db.connection] = {}
    table = model._meta.db_table
    keys = tables.get(table)
    if not keys:
        # On the DB-API cursor: drawing keys is bookkeeping of the session, not a query of
        # the request, and must not carry deferred writes (it may run between them).
        # A sequence hands out keys outside any transaction anyway.
        statement = _draw_sql(table, model._meta.pk.column)
        with (
            db.wrap_database_errors,
            db.connection.cursor() as cursor,
            _no_transaction_opened(db.connection),
        ):
            _prepare_once(db, cursor, statement)
            cursor.execute(statement.execute, [ID_BLOCK])
            keys = tables[table] = sorted((row[0] for row in cursor.fetchall()), reverse=True)
    return keys.pop()


def forget_drawn_ids() -> None:
    """Drop the keys drawn and not used: call after resetting a sequence by hand."""
    _drawn.clear()


# --- Writes deferred to the next round trip ---------------------------------------------------

# Per database connection (Django's wrapper, one per thread): the statements waiting for the
# next round trip, while a `deferred_writes` block is open on it.
_waiting: dict[int, list[str]] = {}


def _take(waiting: list[str]) -> str:
    """The writes waiting as one text, and none left waiting."""
    text = "; ".join(waiting)
    waiting.clear()
    return text


def _send_waiting(execute, sql, params, many, context):
    """An execute wrapper: the writes waiting go ahead of the statement, in the same text."""
    waiting = _waiting.get(id(context["connection"]))
    if waiting:
        ahead = _take(waiting)
        if many:
            execute(ahead, None, False, context)
        else:
            # With parameters the driver formats the text: a % of the values waiting must
            # then reach the server as itself.
            sql = f"{ahead}; {sql}" if params is None else f"{ahead.replace('%', '%%')}; {sql}"
    return execute(sql, params, many, context)


@contextmanager
def deferred_writes() -> Iterator[None]:
    """Inside a transaction's block: the rows `insert` writes wait and go to the server with
    the next statement of the block, in one round trip; what still waits at the end of the
    block goes then. Statements run in the order written, so what the block reads after a
    write sees it. An error in a write waiting is raised by the statement it went with: the
    transaction is lost either way.

    Outside a transaction (each statement its own) or elsewhere than on PostgreSQL, writes
    are sent at once, as without the block.
    """
    with _deferred(alone=False):
        yield


@contextmanager
def atomic_writes() -> Iterator[None]:
    """`transaction.atomic()` with its inserts waiting as in `deferred_writes`.

    When the block is a transaction of its own (not inside another one) and has sent no
    statement by its end — its writes all waiting — they go then as one text, with no BEGIN
    before and no COMMIT after: PostgreSQL runs the statements of one text as a single
    transaction, so they are stored all or none, and a failing one is raised here as any
    error of the block is. Two round trips fewer (an API create: three instead of five).
    Otherwise (a statement was sent, or inside another transaction) it is
    `transaction.atomic()` with `deferred_writes()`. `on_commit` callbacks run after the
    writes are stored, as after any commit.
    """
    db = connections[DEFAULT_DB_ALIAS]
    alone = db.vendor == "postgresql" and not db.in_atomic_block
    with transaction.atomic(using=db.alias), _deferred(alone=alone):
        yield


@contextmanager
def _deferred(*, alone: bool) -> Iterator[None]:
    """The inserts of the block wait; `alone`: the block is the whole of a transaction that
    commits right after it, so what waits may go without BEGIN when nothing went before."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not db.in_atomic_block or id(db) in _waiting:
        yield
        return
    waiting = _waiting[id(db)] = []
    try:
        with db.execute_wrapper(_send_waiting):
            yield
            if waiting:
                text = _take(waiting)  # taken first: the wrapper must not send it again
                # If nothing went before, the driver has not begun the transaction: the text
                # goes alone, and the commit that follows this block has nothing to end.
                with _no_transaction_opened(db.connection) if alone else nullcontext():
                    with db.cursor() as cursor:
                        cursor.execute(text)
    finally:
        del _waiting[id(db)]


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
        functions = (
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        )
        if functions:
            found.append((position, tuple(functions), column))
    return tuple(found)


def _instance(db: Any, model: type[M], row: Sequence[Any]) -> M:
    values = list(row)
    for position, functions, column in _converters(model):
        value = values[position]
        for function in functions:
            value = function(value, column, db)
        values[position] = value
    fields, _ = _columns(model)
    return model.from_db(db.alias, [f.attname for f in fields], values)


@cache
def _select_sql(model: type[Model], where: str, parent: str | None) -> _Statement:
    _fields, columns = _columns(model)
    table = _qn(model._meta.db_table)
    joined = ""
    if parent is not None:
        relation = model._meta.get_field(parent)
        parent_table = _qn(relation.related_model._meta.db_table)
        columns = f"{columns}, {_columns(relation.related_model)[1]}"
        joined = (
            f" INNER JOIN {parent_table} ON {parent_table}.{_qn(relation.target_field.column)}"
            f" = {table}.{_qn(relation.column)}"
        )
    sql = f"SELECT {columns} FROM {table}{joined} WHERE {where} LIMIT 1"
    return _statement("select", model._meta.db_table, sql)


def select_one(
    model: type[M], *, where: str, params: Sequence[Any], parent: str | None = None
) -> M | None:
    """The first row of `model` WHERE `where` (columns of the model's table, %s placeholders),
    or None. `parent` names a foreign key whose row comes in the same query, as with
    `select_related` (the key must not be null)."""
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per use
    with db.cursor() as cursor:
        _execute(cursor, _select_sql(model, where, parent), params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_columns(model)[0])
    instance = _instance(db, model, row[:width])
    if parent is not None:
        parent_model = model._meta.get_field(parent).related_model
        instance._state.fields_cache[parent] = _instance(db, parent_model, row[width:])
    return instance


@dataclass(frozen=True)
class _Blank:
    constant: dict[str, Any]  # attname: the default every new instance starts with
    computed: tuple[tuple[str, Callable[[], Any]], ...]  # attname, default made per instance
    relations: frozenset[str]  # names setting a relation through its descriptor (customer=…)
    foreign_keys: dict[str, str]  # of those, plain foreign keys: name → attname
    attnames: frozenset[str]


@cache
def _blank(model: type[Model]) -> _Blank:
    """What `Model.__init__` gives each field of `model` when it is not given a value."""
    constant, computed = {}, []
    for field in model._meta.concrete_fields:
        # `_get_default` is what `get_default` calls, unless a subclass changed it (ForeignKey).
        plain = type(field).get_default is Field.get_default
        made = field.has_db_default() or (field.has_default() and callable(field.default))
        if plain and not made:
            constant[field.attname] = field._get_default()  # None, "" or a declared constant
        else:
            computed.append((field.attname, field.get_default if not plain else field._get_default))
    relations = {
        f.name: f for f in model._meta.concrete_fields if f.is_relation and f.name != f.attname
    }
    foreign_keys = {
        name: f.attname
        for name, f in relations.items()
        if type(getattr(model, name)) is ForwardManyToOneDescriptor and len(f.related_fields) == 1
    }
    attnames = frozenset(f.attname for f in model._meta.concrete_fields)
    return _Blank(constant, tuple(computed), frozenset(relations), foreign_keys, attnames)


def new(model: type[M], **values: Any) -> M:
    """`model(**values)` — a new, unsaved instance — built the short way: Django's
    `__init__` asks each field in turn whether it was given (a wide order: 45 µs). Values
    go where `__init__` puts them; a relation (`customer=…`) through its descriptor, as
    there, or straight in when it is None. Anything else `__init__` would handle (a
    property, a wrong name, a model with `pre_init`/`post_init` receivers) goes to
    `model(**values)` itself."""
    blank = _blank(model)
    if not blank.attnames.issuperset(values.keys() - blank.relations) or (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        return model(**values)
    instance = model.__new__(model)
    instance._state = ModelState()
    held = instance.__dict__
    held.update(blank.constant)
    for attname, default in blank.computed:
        held[attname] = default()
    for name, value in values.items():
        if name not in blank.relations:
            held[name] = value
        elif value is None and name in blank.foreign_keys:
            # What the descriptor does for None on a new instance: no key, nothing related.
            held[blank.foreign_keys[name]] = None
            instance._state.fields_cache[name] = None
        else:
            setattr(instance, name, value)
    return instance


@cache
def _insert_sql(
    model: type[Model], with_pk: bool, rows: int
) -> tuple[tuple[tuple[str, tuple[type, ...] | None, Field], ...], _Statement]:
    """The statement inserting `rows` rows of `model`, and how each column's value is made
    (`_saver`, in the statement's column order)."""
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(_qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {_qn(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"
    if not with_pk:
        sql += f" RETURNING {_qn(meta.pk.column)}"
    return tuple(_saver(f) for f in fields), _statement(f"insert{rows}", meta.db_table, sql)


# Fields whose value goes to the database as the instance holds it, when it is of these types
# (or None): for them `get_db_prep_save(pre_save(…))` returns the value unchanged. Exact
# classes only: a subclass may convert. Any other value takes the ORM's way.
_AS_HELD: dict[type[Field], tuple[type, ...]] = {
    **dict.fromkeys((models.CharField, models.TextField), (str,)),
    models.BooleanField: (bool,),
    **dict.fromkeys(
        (
            models.AutoField,
            models.BigAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.ForeignKey,
        ),
        (int,),
    ),
}


def _saver(field: Field) -> tuple[str, tuple[type, ...] | None, Field]:
    """(attname, the types stored as held or None, field). A time set on save (auto_now) is
    never as held; an unset time (None) is."""
    held = _AS_HELD.get(type(field))
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        held = ()
    return field.attname, held, field


def insert(*instances: Model) -> None:
    """INSERT the new rows of `instances` (all of one model) in one statement, as
    `save(force_insert=True)` would. Instances without a primary key get one: drawn ahead
    on PostgreSQL (`new_id`), from the insert elsewhere. Inside `deferred_writes` the
    statement waits for the block's next round trip."""
    if not instances:
        return
    model = type(instances[0])
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        for instance in instances:
            if instance.pk is None:
                instance.pk = new_id(model)
    with_pk = instances[0].pk is not None
    savers, statement = _insert_sql(model, with_pk, len(instances))
    values = []
    for instance in instances:
        attributes = instance.__dict__  # where a new instance holds each field's value
        for attname, held, field in savers:
            if held is not None and attname in attributes:
                value = attributes[attname]
                if value is None or type(value) in held:
                    values.append(value)
                    continue
            values.append(field.get_db_prep_save(field.pre_save(instance, True), db))
    waiting = _waiting.get(id(db)) if with_pk else None
    if waiting is not None:
        # Only the text is made here (no statement runs): a DB-API cursor does, without
        # Django's wrapper around it.
        with db.wrap_database_errors, db.connection.cursor() as cursor:
            _prepare_once(db, cursor, statement)
            waiting.append(cursor.mogrify(statement.execute, values).decode())
    else:
        with db.cursor() as cursor:
            _execute(cursor, statement, values)
            if not with_pk:
                for instance, (pk,) in zip(instances, cursor.fetchall(), strict=True):
                    instance.pk = pk
    for instance in instances:
        instance._state.adding = False
        instance._state.db = db.alias
