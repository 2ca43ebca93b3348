"""The statements built once (servicedesk.sql) give what the ORM gives, without its compiling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from api.models import ApiClient, IdempotencyRecord
from customers.models import Customer
from servicedesk import sql
from sla.models import SlaRule, Timer
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def client_row() -> ApiClient:
    return ApiClient.objects.create(
        name="ivr",
        scopes=["tickets:create", "tickets:read"],
        token_hash="a" * 64,
        token_prefix="sd_aaaa",
        last_used_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
    )


def test_a_row_read_by_key_equals_the_one_the_orm_reads(client_row):
    found = sql.select_one(ApiClient, where="token_hash = %s AND is_active", params=["a" * 64])

    expected = ApiClient.objects.get(pk=client_row.pk)
    assert found == expected
    for field in ApiClient._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.scopes == ["tickets:create", "tickets:read"]  # JSON decoded, not text
    assert found.last_used_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert found._state.adding is False


def test_no_row_is_none(client_row):
    assert sql.select_one(ApiClient, where="token_hash = %s", params=["b" * 64]) is None
    ApiClient.objects.filter(pk=client_row.pk).update(is_active=False)
    assert (
        sql.select_one(ApiClient, where="token_hash = %s AND is_active", params=["a" * 64]) is None
    )


def test_the_parent_row_comes_in_the_same_query(urban_customer):
    with CaptureQueriesContext(connection) as queries:
        customer = sql.select_one(
            Customer,
            where="account_number = %s",
            params=[urban_customer.account_number],
            parent="service_area",
        )
        area = customer.service_area

    assert len(_statements(queries)) == 1
    assert customer.pk == urban_customer.pk
    assert customer.address == urban_customer.address
    assert area == urban_customer.service_area
    assert area.area_type == urban_customer.service_area.area_type


def test_an_insert_stores_what_save_would_and_sets_the_new_key(urban_customer):
    ticket = Ticket(
        number="20260301" + "9" * 10,
        category="repair",
        caller_phone="13900000001",
        call_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        customer=urban_customer,
        description="家里停电了",
        created_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )
    sql.insert(ticket)
    event = TicketEvent(
        ticket=ticket,
        at=ticket.created_at,
        kind=TicketEvent.Kind.CREATED,
        to_status="accepted",
        data={"via": "ivr", "n": 1},
    )
    sql.insert(event)

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.number == ticket.number
    assert stored.customer_id == urban_customer.pk
    assert stored.updated_at is not None  # auto_now, as save() sets it
    assert ticket._state.adding is False
    assert event.pk is not None
    assert TicketEvent.objects.get(pk=event.pk).data == {"via": "ivr", "n": 1}


def test_several_rows_go_in_one_statement_and_get_their_keys_in_order(urban_customer):
    ticket = Ticket.objects.create(
        number="20260301" + "8" * 10,
        category="complaint",
        caller_phone="13900000001",
        call_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        description="x",
        created_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )
    rule = SlaRule.objects.first()
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    timers = [
        Timer(ticket=ticket, name=name, rule=rule, started_at=start, due_at=due, at_risk_at=due)
        for name, due in (
            ("reply", datetime(2026, 3, 2, tzinfo=UTC)),
            ("dispatch", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        )
    ]
    with CaptureQueriesContext(connection) as queries:
        sql.insert(*timers)

    assert len(_statements(queries)) == 1
    by_pk = {t.pk: t.name for t in Timer.objects.filter(ticket=ticket)}
    assert by_pk == {timers[0].pk: "reply", timers[1].pk: "dispatch"}


def test_inserting_nothing_asks_nothing():
    with CaptureQueriesContext(connection) as queries:
        sql.insert()
    assert len(queries) == 0
    assert IdempotencyRecord.objects.count() == 0


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)  # closes the connection: no test transaction
def test_on_postgresql_a_statement_is_prepared_once_per_database_session(client_row):
    def lookup() -> ApiClient | None:
        return sql.select_one(ApiClient, where="token_hash = %s AND is_active", params=["a" * 64])

    assert lookup() == client_row
    prepared = _prepared_names()
    with CaptureQueriesContext(connection) as queries:
        assert lookup() == client_row
        assert lookup() == client_row
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXECUTE", "EXECUTE"]
    assert _prepared_names() == prepared
    assert any(name.startswith("sd_select_api_apiclient_") for name in prepared)

    connection.close()  # a new session knows no prepared statements: it prepares again
    assert lookup() == client_row
    again = _prepared_names()
    assert len(again) == 1 and again <= prepared


def test_a_prepared_statement_outlives_the_rollback_of_its_transaction(client_row):
    with pytest.raises(RuntimeError), transaction.atomic():
        sql.select_one(ApiClient, where="token_hash = %s AND is_active", params=["c" * 64])
        raise RuntimeError("undo")

    found = sql.select_one(ApiClient, where="token_hash = %s AND is_active", params=["a" * 64])
    assert found == client_row


def test_a_hand_written_statement_runs_with_and_without_parameters(client_row):
    with connection.cursor() as cursor:
        sql.execute(
            cursor, kind="count", table="api_apiclient", sql="SELECT count(*) FROM api_apiclient"
        )
        assert cursor.fetchone() == (1,)
        sql.execute(
            cursor,
            kind="name",
            table="api_apiclient",
            sql="SELECT name FROM api_apiclient WHERE id = %s",
            params=[client_row.pk],
        )
        assert cursor.fetchone() == ("ivr",)


# --- prepared_reads: the ORM's SELECTs, prepared -------------------------------------------


def test_reads_inside_prepared_reads_give_what_the_orm_gives(client_row):
    other = ApiClient.objects.create(name="hall", scopes=[], token_hash="b" * 64, token_prefix="sd_b")
    queries_by_hand = [
        lambda: list(ApiClient.objects.order_by("name").values("name", "last_used_at")),
        lambda: list(ApiClient.objects.filter(name__in=["ivr", "hall"]).order_by("-id")),
        lambda: ApiClient.objects.filter(name__contains="%").count(),  # a literal % in a parameter
        lambda: ApiClient.objects.filter(pk=other.pk).exists(),
    ]
    expected = [query() for query in queries_by_hand]

    with sql.prepared_reads(), CaptureQueriesContext(connection) as queries:
        got = [query() for query in queries_by_hand]
        again = [query() for query in queries_by_hand]

    assert got == expected and again == expected
    if connection.vendor == "postgresql":
        assert {q["sql"].split()[0] for q in queries.captured_queries} == {"EXECUTE"}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)  # autocommit, as a list request runs
def test_a_read_the_server_cannot_prepare_runs_as_sent(client_row):
    # `%s IS NOT NULL`: the server cannot tell the parameter's type, so PREPARE fails.
    def read():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM api_apiclient WHERE %s IS NOT NULL", ["x"])
            return cursor.fetchall()

    with sql.prepared_reads(), CaptureQueriesContext(connection) as queries:
        assert read() == [("ivr",)]
        assert read() == [("ivr",)]
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT", "SELECT"]


def test_writes_inside_prepared_reads_run_as_sent(client_row):
    with sql.prepared_reads(), CaptureQueriesContext(connection) as queries:
        ApiClient.objects.filter(pk=client_row.pk).update(note="x")
    assert queries.captured_queries[0]["sql"].startswith("UPDATE")
    assert ApiClient.objects.get(pk=client_row.pk).note == "x"


# --- new_id: keys drawn ahead, a block at a time ---------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="sequences and deferred writes are PostgreSQL's"
)


def _order(number: str, **fields) -> Ticket:
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    values = {"category": "repair", "caller_phone": "13900000001", "call_at": at,
              "description": "家里停电了", "created_at": at, **fields}
    return Ticket(number=number, **values)


@postgresql_only
def test_keys_are_drawn_from_the_sequence_a_block_per_round_trip():
    sql.forget_drawn_ids()
    with CaptureQueriesContext(connection) as queries:
        keys = [sql.new_id(Ticket) for _ in range(sql.ID_BLOCK + 1)]

    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # ascending, none twice
    assert len(queries) == 0  # bookkeeping of the session, not a query of the request
    # Drawn from the table's own sequence: a row the ORM inserts afterwards gets a later key.
    later = _order("20260301" + "7" * 10)
    later.save()
    assert later.pk > keys[-1]


@postgresql_only
def test_an_insert_writes_the_key_drawn_for_it():
    ticket = _order("20260301" + "6" * 10)
    sql.insert(ticket)
    event = TicketEvent(ticket=ticket, at=ticket.created_at, kind=TicketEvent.Kind.CREATED)
    sql.insert(event)

    assert Ticket.objects.get(number=ticket.number).pk == ticket.pk
    assert TicketEvent.objects.get(ticket=ticket).pk == event.pk


def test_a_key_is_not_drawn_where_there_is_no_sequence():
    assert sql.new_id(ApiClient) is not None or connection.vendor != "postgresql"
    if connection.vendor != "postgresql":
        assert sql.new_id(Ticket) is None  # SQLite: the insert assigns it


# --- deferred_writes: inserts travel with the next statement -----------------------------------


@postgresql_only
def test_deferred_inserts_travel_with_the_next_statement_in_one_round_trip(client_row):
    ticket = _order("20260301" + "5" * 10)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with sql.deferred_writes():
            sql.insert(ticket)
            sql.insert(TicketEvent(ticket=ticket, at=ticket.created_at, kind="created"))
            assert len(queries) == 0  # waiting
            # A read after the writes sees them: they go ahead of it, in the same text.
            assert Ticket.objects.filter(pk=ticket.pk, events__kind="created").exists()

    assert len(queries) == 1
    text = queries.captured_queries[0]["sql"]
    assert text.index("sd_insert1_tickets_ticket_") < text.index("sd_insert1_tickets_ticketevent_")
    assert text.index("sd_insert1_tickets_ticketevent_") < text.index("SELECT")


@postgresql_only
def test_what_still_waits_at_the_end_of_the_block_is_sent_then():
    ticket = _order("20260301" + "4" * 10, description="停电 100% 了")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with sql.deferred_writes():
            sql.insert(ticket)
            assert len(queries) == 0
        assert len(queries) == 1
    assert Ticket.objects.get(pk=ticket.pk).description == "停电 100% 了"


@postgresql_only
def test_a_percent_sign_in_a_waiting_row_survives_a_statement_with_parameters(client_row):
    ticket = _order("20260301" + "3" * 10, description="50%s 的用户 100%% 停电")
    with transaction.atomic(), sql.deferred_writes():
        sql.insert(ticket)
        # The statement it travels with has parameters: the driver formats the whole text.
        assert ApiClient.objects.filter(name__contains="%").count() == 0
    assert Ticket.objects.get(pk=ticket.pk).description == "50%s 的用户 100%% 停电"


@postgresql_only
def test_writes_waiting_when_the_block_fails_are_never_sent():
    ticket = _order("20260301" + "2" * 10)
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(RuntimeError), transaction.atomic(), sql.deferred_writes():
            sql.insert(ticket)
            raise RuntimeError("the caller changed its mind")
    assert not any("sd_insert" in q["sql"] for q in queries.captured_queries)
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


@postgresql_only
def test_a_failing_waiting_write_is_raised_by_the_statement_it_travels_with():
    from django.db import IntegrityError

    first = _order("20260301" + "1" * 10)
    sql.insert(first)
    twin = _order(first.number)  # the same number: the unique index refuses it
    with pytest.raises(IntegrityError), transaction.atomic(), sql.deferred_writes():
        sql.insert(twin)
        Ticket.objects.filter(pk=first.pk).update(description="changed")
    assert Ticket.objects.get(pk=first.pk).description == "家里停电了"
    assert not Ticket.objects.filter(pk=twin.pk).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)  # autocommit: no transaction around the test
def test_outside_a_transaction_writes_are_sent_at_once():
    ticket = _order("20260301" + "0" * 10)
    with sql.deferred_writes(), CaptureQueriesContext(connection) as queries:
        sql.insert(ticket)
        assert len(queries) == 1
    assert Ticket.objects.filter(pk=ticket.pk).exists()


# --- atomic_writes: a transaction whose writes all wait goes as one text ----------------------


def _observing(sent: list[tuple[str, bool, int]]):
    """An execute wrapper noting each statement with the driver's autocommit and the
    session's transaction status at the moment it is sent."""

    def observe(execute, sql_text, params, many, context):
        raw = context["connection"].connection
        sent.append((sql_text, raw.autocommit, raw.info.transaction_status))
        return execute(sql_text, params, many, context)

    return observe


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_block_that_sent_nothing_stores_its_writes_in_one_text_without_begin():
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    ticket = _order("20260301" + "6" * 10)
    committed: list[str] = []
    sent: list[tuple[str, bool, int]] = []
    sql.forget_drawn_ids()  # keys are drawn inside the block: that must not open a transaction
    with connection.execute_wrapper(_observing(sent)):
        with sql.atomic_writes():
            sql.insert(ticket)
            sql.insert(TicketEvent(ticket=ticket, at=ticket.created_at, kind="created"))
            transaction.on_commit(lambda: committed.append("after"))
            assert sent == []  # waiting
            assert committed == []

    assert len(sent) == 1
    text, autocommit, status = sent[0]
    assert text.count("EXECUTE sd_insert1_") == 2
    # No transaction open when it went, the driver in autocommit: no BEGIN, no COMMIT.
    assert autocommit and status == TRANSACTION_STATUS_IDLE
    assert committed == ["after"]  # as after any commit, once the rows are stored
    assert TicketEvent.objects.filter(ticket_id=ticket.pk, kind="created").exists()
    assert connection.get_autocommit() and connection.connection.autocommit


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_one_failing_write_of_the_text_stores_none_of_it():
    from django.db import IntegrityError

    first = _order("20260301" + "7" * 10)
    sql.insert(first)
    fresh = _order("20260301" + "8" * 10)
    twin = _order(first.number)  # the same number: the unique index refuses it
    committed: list[str] = []
    with pytest.raises(IntegrityError), sql.atomic_writes():
        sql.insert(fresh)
        sql.insert(twin)
        transaction.on_commit(lambda: committed.append("after"))

    assert not Ticket.objects.filter(pk__in=[fresh.pk, twin.pk]).exists()
    assert committed == []
    assert Ticket.objects.filter(pk=first.pk).exists()  # the session goes on working


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_block_that_sent_a_statement_is_an_ordinary_transaction():
    from django.db import IntegrityError
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS

    first = _order("20260301" + "9" * 10)
    sql.insert(first)
    twin = _order(first.number)
    sent: list[tuple[str, bool, int]] = []
    with pytest.raises(IntegrityError), connection.execute_wrapper(_observing(sent)):
        with sql.atomic_writes():
            Ticket.objects.filter(pk=first.pk).update(description="changed")
            sql.insert(twin)

    # The update went with autocommit off, so the driver sent BEGIN ahead of it; the failing
    # write at the end went inside that transaction, and the rollback undid the update.
    assert [(autocommit, status) for _text, autocommit, status in sent] == [
        (False, TRANSACTION_STATUS_IDLE),
        (False, TRANSACTION_STATUS_INTRANS),
    ]
    assert Ticket.objects.get(pk=first.pk).description == "家里停电了"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_inside_another_transaction_the_writes_wait_for_its_end():
    ticket = _order("20260301" + "0" * 9 + "1")
    with pytest.raises(RuntimeError), transaction.atomic():
        with sql.atomic_writes():
            sql.insert(ticket)
        assert Ticket.objects.filter(pk=ticket.pk).exists()  # sent, not committed
        raise RuntimeError("the outer block fails afterwards")

    assert not Ticket.objects.filter(pk=ticket.pk).exists()


# --- new: the instance Model(**values) makes, built the short way ----------------------------


def _same_instance(made: Model, expected: Model) -> None:
    assert type(made) is type(expected)
    mine = {k: v for k, v in vars(made).items() if k != "_state"}
    theirs = {k: v for k, v in vars(expected).items() if k != "_state"}
    assert mine == theirs
    assert (made._state.adding, made._state.db) == (expected._state.adding, expected._state.db)
    assert made._state.fields_cache == expected._state.fields_cache


def test_a_new_instance_is_the_one_the_model_makes(urban_customer):
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    order = {
        "category": "repair", "channel": "ivr", "caller_phone": "13900000001", "call_at": at,
        "call": None, "customer": urban_customer, "service_area": urban_customer.service_area,
        "subtype": None, "owner_id": None, "description": "家里停电了", "created_at": at,
        "is_important": True,
    }
    _same_instance(sql.new(Ticket, **order), Ticket(**order))
    ticket = Ticket(**order)
    event = {"ticket": ticket, "at": at, "kind": "created", "actor_id": None, "data": {}}
    _same_instance(sql.new(TicketEvent, **event), TicketEvent(**event))
    rule = SlaRule.objects.filter(name="dispatch").first()
    timer = {"ticket": ticket, "rule": rule, "name": "dispatch", "started_at": at, "due_at": at}
    _same_instance(sql.new(Timer, **timer), Timer(**timer))
    record = {"client_id": 7, "key": "k", "fingerprint": "f", "status_code": 201,
              "response_body": "{}", "created_at": at}
    _same_instance(sql.new(IdempotencyRecord, **record), IdempotencyRecord(**record))
    # Defaults made per instance are not shared between instances.
    assert sql.new(TicketEvent, ticket=ticket, at=at).data is not sql.new(
        TicketEvent, ticket=ticket, at=at
    ).data


def test_what_the_short_way_does_not_know_goes_to_the_model_itself():
    with pytest.raises(TypeError, match="unexpected keyword"):
        sql.new(Ticket, no_such_field=1)
    with pytest.raises(ValueError, match="must be a"):
        sql.new(TicketEvent, ticket="not an order")


def test_every_column_an_insert_writes_is_what_the_orm_writes(urban_customer):
    from tickets.models import Category

    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    values = {
        "category": Category.REPAIR,  # a str subclass: converted the ORM's way
        "channel": "ivr",
        "caller_phone": "13900000001",
        "call_at": at,
        "customer": urban_customer,
        "description": "家里停电了 100%",
        "created_at": at,
        "supervised": True,
        "call_count": 2,
        "reopen_count": True,  # a bool in an integer column: stored as the ORM stores it
    }
    by_hand = Ticket(number="20260301" + "5" * 10, **values)
    sql.insert(by_hand)
    by_orm = Ticket(number="20260301" + "6" * 10, **values)
    by_orm.save()

    hand, orm = Ticket.objects.get(pk=by_hand.pk), Ticket.objects.get(pk=by_orm.pk)
    for field in Ticket._meta.concrete_fields:
        if field.name in ("id", "number", "updated_at"):
            continue
        assert getattr(hand, field.attname) == getattr(orm, field.attname), field.name
    assert hand.reopen_count == 1 and hand.call_count == 2 and hand.supervised is True
    assert hand.updated_at is not None  # auto_now, set on insert as on save
