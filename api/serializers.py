"""What the API accepts and answers. Parsing and lookups only: no writes happen here.

Input serializers check shape and types (a wrong type or an over-long string is a 400 on
that field, never a 500) and turn codes into rows (customer account, sub-type code, call
id, unit code), answering 400 on the field when a code is unknown. The business rules
(valid phone number, sub-type of the right category, what each state allows) stay in the
services, which answer the same way for the browser pages.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.selectors import LIST_ROW, one_or_none
from calls.models import Call
from customers.models import AreaType, Customer, HandlingUnit
from sla.models import TimerName
from sla.policy import BEIJING
from tickets.intake import TicketDraft
from tickets.lifecycle import allowed_actions
from tickets.models import (
    AssetOwner,
    Category,
    Channel,
    ReplyForm,
    Satisfaction,
    Status,
    SubType,
    Ticket,
    TicketEvent,
)

DESCRIPTION_MAX = 4000
NOTE_MAX = 2000
# Metrics are computed on demand; a period longer than a year is a report job, not a request.
METRICS_MAX_DAYS = 366
METRICS_DEFAULT_DAYS = 30
METRICS_YEARS = (2000, 2100)

# The switch's events, in the order they normally come.
CALL_EVENTS = [("ring", _("ringing")), ("answer", _("answered")), ("hangup", _("hung up"))]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with the Beijing offset, as every time in the API is written (what DRF's
    DateTimeField writes with TIME_ZONE = Asia/Shanghai, without its per-call overhead)."""
    return value.astimezone(BEIJING).isoformat() if value is not None else None


DEADLINES_SCHEMA = {
    "type": "object",
    "description": "Timer name → due time (ISO-8601) of the timers running now.",
    "properties": {
        name: {"type": "string", "format": "date-time"}
        for name in TimerName.values
        if name != TimerName.ANSWER
    },
    "additionalProperties": {"type": "string", "format": "date-time"},
}


@extend_schema_field(DEADLINES_SCHEMA)
class DeadlinesField(serializers.Field):
    """The due times of an order's running clocks: its copy of them (`Ticket.deadlines`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, ticket: Ticket) -> dict[str, str]:
        return ticket.deadlines


class StrictCharField(serializers.CharField):
    """A string and only a string: 42 or true in a text field is a client's type mistake,
    not the text "42" (DRF's CharField would quietly convert numbers)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only (DRF's BooleanField would also take "yes", 1, "on" …)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class InputSerializer(serializers.Serializer):
    # A request body on a hot path (orders from the IVR, events from the switch). No
    # docstring: the schema would show it as the description of every subclass.
    #
    # DRF deep-copies every declared field for each serializer it builds, re-running each
    # field's constructor on every request. The fields keep no state of their own while
    # validating besides what `bind` sets on the copy, so a shallow copy does the same job.

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


# --- Errors (for the schema) ------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(
        help_text=_("What went wrong, in one sentence, in the request's language.")
    )
    code = serializers.CharField(
        help_text=_("A stable code, e.g. not_authenticated, not_allowed, not_found.")
    )


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Field name → messages. `non_field_errors` for the request as a whole."),
    )


# --- Orders: create -------------------------------------------------------------------------


class TicketCreateInputSerializer(InputSerializer):
    category = serializers.ChoiceField(
        choices=Category.choices, help_text=_("One of the five service categories.")
    )
    caller_phone = StrictCharField(
        max_length=32,
        help_text=_("The caller's number: mobile, landline with area code, or a service number."),
    )
    description = StrictCharField(
        max_length=DESCRIPTION_MAX, help_text=_("What the caller reports, in their words.")
    )
    customer_account = StrictCharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text=_("Account number (户号) when known."),
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        default=Channel.PHONE,
        help_text=_("Where the order came in."),
    )
    subtype = StrictCharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_("Sub-type code, e.g. repair-lv."),
    )
    detail = StrictCharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_("Detail code below the sub-type."),
    )
    address = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("Where the fault or request is; defaults to the customer's address."),
    )
    area_type = serializers.ChoiceField(
        choices=AreaType.choices,
        required=False,
        allow_blank=True,
        help_text=_(
            "urban, rural or remote; defaults to the customer's service area. A repair "
            "with no known area type gets the strictest (urban) limit and is flagged."
        ),
    )
    call_id = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_(
            "The switch's call id, when the order is taken during a call the switch reported."
        ),
    )
    party = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_(
            "The party complained about or reported (complaint, report). When it is missing, "
            "the order is still taken and lists it in `to_complete` for the handling unit to "
            "complete."
        ),
    )
    resident_id = StrictCharField(
        max_length=18,
        required=False,
        allow_blank=True,
        help_text=_(
            "Householder's resident ID number, 18 characters with check digit (applications)."
        ),
    )
    application_channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_blank=True,
        help_text=_("Where the application was made (applications)."),
    )
    contact_name = StrictCharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_("Contact person (applications)."),
    )
    contact_phone = StrictCharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=_("Contact phone (applications)."),
    )

    def validate_customer_account(self, value: str) -> Customer | None:
        if not value:
            return None
        customer = one_or_none(
            Customer.objects.select_related("service_area").filter(account_number=value.strip())
        )
        if customer is None:
            raise serializers.ValidationError(_("No customer has this account number."))
        return customer

    def validate_subtype(self, value: str) -> SubType | None:
        if not value:
            return None
        subtype = one_or_none(
            SubType.objects.filter(code=value.strip(), parent__isnull=True, is_active=True)
        )
        if subtype is None:
            raise serializers.ValidationError(_("Unknown sub-type code."))
        return subtype

    def validate_detail(self, value: str) -> SubType | None:
        if not value:
            return None
        detail = one_or_none(
            SubType.objects.filter(code=value.strip(), parent__isnull=False, is_active=True)
        )
        if detail is None:
            raise serializers.ValidationError(_("Unknown detail code."))
        return detail

    def validate_call_id(self, value: str) -> str:
        value = value.strip()
        if value and not Call.objects.filter(call_id=value).exists():
            raise serializers.ValidationError(_("The switch has reported no call with this id."))
        return value

    def to_draft(self) -> TicketDraft:
        """The validated request as the draft `tickets.services.ticket_create` takes."""
        data = dict(self.validated_data)
        data["customer"] = data.pop("customer_account", None)
        return TicketDraft(**{key: value for key, value in data.items() if value is not None})


class TicketOutageSerializer(serializers.Serializer):
    number = serializers.CharField(read_only=True, help_text=_("The outage's number."))
    expected_restoration_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("When power is expected back (null while not yet known)."),
    )


class TicketCreatedSerializer(serializers.Serializer):
    # A plain Serializer: the answer of every create, built without the model's field walk.
    number = serializers.CharField(read_only=True)
    category = serializers.ChoiceField(choices=Category.choices, read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    deadlines = DeadlinesField()
    to_complete = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_(
            "Details the category needs that the channel did not give, for the handling unit "
            "to complete."
        ),
    )
    outage = TicketOutageSerializer(
        read_only=True,
        allow_null=True,
        help_text=_(
            "The active outage the repair was linked to (merged: no crew of its own is sent), "
            "or null."
        ),
    )

    class Meta:
        model = Ticket
        fields = ["number", "category", "status", "created_at", "deadlines", "to_complete"]
        read_only_fields = fields


# --- Orders: read ---------------------------------------------------------------------------


class TimelineEventSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=TicketEvent.Kind.choices, read_only=True)
    action = serializers.CharField(read_only=True, help_text=_("The life-cycle action, if any."))
    from_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    actor = serializers.SerializerMethodField(
        help_text=_("Username of the person, or the client or system name.")
    )

    class Meta:
        model = TicketEvent
        fields = ["at", "kind", "action", "from_status", "to_status", "actor", "note"]
        read_only_fields = fields

    def get_actor(self, event: TicketEvent) -> str:
        if event.actor_id and event.actor is not None:
            return event.actor.get_username()
        return event.actor_label


class TicketBreachSerializer(serializers.Serializer):
    name = serializers.ChoiceField(
        choices=TimerName.choices, read_only=True, help_text=_("Timer name.")
    )
    occurred_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the due time passed.")
    )
    recorded_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the breach was recorded.")
    )
    handling_unit = serializers.CharField(
        source="handling_unit.code", read_only=True, allow_null=True
    )


class TicketListItemSerializer(serializers.ModelSerializer):
    subtype = serializers.CharField(source="subtype.code", read_only=True, allow_null=True)
    customer_account = serializers.CharField(
        source="customer.account_number", read_only=True, allow_null=True
    )
    handling_unit = serializers.CharField(
        source="handling_unit.code", read_only=True, allow_null=True
    )
    to_complete = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_(
            "Details the category needs that the channel did not give, for the handling unit "
            "to complete."
        ),
    )
    deadlines = DeadlinesField()

    class Meta:
        model = Ticket
        fields = [
            "number",
            "category",
            "subtype",
            "channel",
            "status",
            "caller_phone",
            "customer_account",
            "address",
            "area_type",
            "handling_unit",
            "supervised",
            "to_complete",
            "created_at",
            "updated_at",
            "deadlines",
        ]
        read_only_fields = fields

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:
        # The one renderer of a list row, for people and integration clients alike: a plain
        # row of `api.selectors.ticket_rows_for_api`. The declared fields document it; tests
        # pin the shape.
        return {key: _plain(row[column]) for key, column in LIST_ROW.items()}


def _plain(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


class TicketDetailSerializer(TicketListItemSerializer):
    detail = serializers.CharField(source="detail.code", read_only=True, allow_null=True)
    handler = serializers.CharField(source="handler.username", read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, allow_blank=True, read_only=True
    )
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("Actions the life cycle allows from the current state.")
    )
    breaches = TicketBreachSerializer(source="breach_list", many=True, read_only=True)
    timeline = TimelineEventSerializer(many=True, read_only=True)

    # The detail is not on a hot path: DRF's own field walk renders it.
    to_representation = serializers.ModelSerializer.to_representation

    class Meta(TicketListItemSerializer.Meta):
        fields = [
            *TicketListItemSerializer.Meta.fields,
            "detail",
            "description",
            "area_type_unconfirmed",
            "is_important",
            "created_via",
            "owner",
            "handler",
            "call_count",
            "party",
            "reply",
            "replied_at",
            "satisfaction",
            "cancel_reason",
            "termination_reason",
            "return_count",
            "dispatched_at",
            "acknowledged_at",
            "contacted_at",
            "arrived_at",
            "handed_back_at",
            "resolved_at",
            "visited_at",
            "archived_at",
            "closed_at",
            "allowed_actions",
            "breaches",
            "timeline",
        ]
        read_only_fields = fields

    def get_allowed_actions(self, ticket: Ticket) -> list[str]:
        return allowed_actions(category=ticket.category, status=ticket.status)


# --- Orders: actions ------------------------------------------------------------------------


# The body of a life-cycle action: `to_service_kwargs` is what the action's service takes.
# (A comment, not a docstring: the schema would publish a docstring on every action body.)
class ActionInputSerializer(serializers.Serializer):
    def to_service_kwargs(self) -> dict[str, Any]:
        return dict(self.validated_data)


class NoteInputSerializer(ActionInputSerializer):
    note = StrictCharField(
        max_length=NOTE_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Kept on the order's timeline."),
    )


class DispatchInputSerializer(NoteInputSerializer):
    handling_unit = StrictCharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_("Unit code; by default the order is routed by its category and service area."),
    )

    def validate_handling_unit(self, value: str) -> HandlingUnit | None:
        if not value:
            return None
        unit = one_or_none(HandlingUnit.objects.filter(code=value.strip(), is_active=True))
        if unit is None:
            raise serializers.ValidationError(_("No active handling unit has this code."))
        return unit

    def to_service_kwargs(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data["unit"] = data.pop("handling_unit", None)
        return data


class ResolveInputSerializer(NoteInputSerializer):
    cause = StrictCharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Cause found (repairs)."),
    )
    work_done = StrictCharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, help_text=_("Work done.")
    )
    reply = StrictCharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Answer given (inquiries)."),
    )
    power_restored = StrictBooleanField(
        required=False,
        default=True,
        help_text=_("Repairs: power is back (stops the restoration clock)."),
    )
    # The crew's result of a repair, as the crew pages record it (tickets.services.
    # _repair_result_clean checks them, with the same messages).
    restored_at = serializers.DateTimeField(
        required=False,
        help_text=_(
            "Repairs: when power came back, ISO-8601 (without an offset: Beijing time); "
            "not later than now. By default now, when power_restored."
        ),
    )
    asset_owner = serializers.ChoiceField(
        choices=AssetOwner.choices,
        required=False,
        help_text=_("Repairs: who owns the faulty equipment (设备产权)."),
    )
    is_paid = StrictBooleanField(
        required=False,
        help_text=_(
            "Repairs: paid service. Follows the asset owner (customer-owned: paid) unless "
            "given; charging otherwise needs paid_override_reason."
        ),
    )
    paid_override_reason = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("Why the charge differs from what the asset owner implies."),
    )


class HandbackInputSerializer(ResolveInputSerializer):
    reply = StrictCharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        allow_blank=True,
        help_text=_("The written reply (complaints and reports: required)."),
    )
    reply_form = serializers.ChoiceField(
        choices=ReplyForm.choices,
        required=False,
        help_text=_("How the reply was given to the customer (callback, SMS …)."),
    )


class ReasonInputSerializer(ActionInputSerializer):
    reason = StrictCharField(max_length=200, help_text=_("Why; kept on the timeline."))


class RedispatchInputSerializer(ReasonInputSerializer):
    handling_unit = StrictCharField(
        max_length=40, help_text=_("Code of the active unit that takes the order over.")
    )

    def validate_handling_unit(self, value: str) -> HandlingUnit:
        unit = one_or_none(HandlingUnit.objects.filter(code=value.strip(), is_active=True))
        if unit is None:
            raise serializers.ValidationError(_("No active handling unit has this code."))
        return unit

    def to_service_kwargs(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data["unit"] = data.pop("handling_unit")
        return data


class ReplyInputSerializer(NoteInputSerializer):
    reply = StrictCharField(
        max_length=DESCRIPTION_MAX, help_text=_("The written reply to the customer.")
    )
    reply_form = serializers.ChoiceField(
        choices=ReplyForm.choices,
        required=False,
        help_text=_("How the reply was given to the customer (callback, SMS …)."),
    )


class VisitInputSerializer(NoteInputSerializer):
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices,
        help_text=_("The customer's verdict; dissatisfied reopens the order (back to dispatched)."),
    )
    reason = StrictCharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_(
            "Dissatisfied only: why, as a reason code (attitude, repair-quality, arrival-time, "
            "not-fixed, other; the list is data, edited in the admin). Optional; an unknown "
            "or retired code answers 400."
        ),
    )


class CancelInputSerializer(ActionInputSerializer):
    reason = StrictCharField(
        max_length=200, help_text=_("Why the order is cancelled; kept on the timeline.")
    )


# --- Calls --------------------------------------------------------------------------------


class CallEventInputSerializer(InputSerializer):
    call_id = StrictCharField(max_length=64, help_text=_("The switch's id of the call."))
    event = serializers.ChoiceField(choices=CALL_EVENTS, help_text=_("What the switch saw."))
    at = serializers.DateTimeField(
        help_text=_(
            "When it happened on the switch, ISO-8601; without an offset it is Beijing time."
        )
    )
    caller_phone = StrictCharField(max_length=20, required=False, allow_blank=True)
    agent = StrictCharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text=_("Username of the agent at the position."),
    )

    def validate_at(self, value: datetime) -> datetime:
        # Keeps date arithmetic downstream (deadlines, reports) away from the ends of the calendar.
        if not 2000 <= value.year <= 2100:
            raise serializers.ValidationError(_("Give a time between the years 2000 and 2100."))
        return value

    def to_service_kwargs(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data["agent_username"] = data.pop("agent", "")
        return data


class CallSerializer(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.username", read_only=True, allow_null=True)

    class Meta:
        model = Call
        fields = [
            "call_id",
            "caller_phone",
            "agent",
            "ring_at",
            "answer_at",
            "hangup_at",
            "disposition",
        ]
        read_only_fields = fields


# --- SLA and figures ------------------------------------------------------------------------


class BreachSerializer(serializers.Serializer):
    ticket = serializers.CharField(
        source="ticket.number", read_only=True, help_text=_("Order number.")
    )
    category = serializers.ChoiceField(choices=Category.choices, read_only=True)
    timer = serializers.ChoiceField(source="name", choices=TimerName.choices, read_only=True)
    occurred_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the due time passed.")
    )
    recorded_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the breach was recorded.")
    )
    area_type = serializers.CharField(read_only=True)
    handling_unit = serializers.CharField(
        source="handling_unit.code", read_only=True, allow_null=True
    )
    acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True)


class MetricsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False,
        help_text=_("First day of the period (Beijing calendar); default 29 days before end."),
    )
    end = serializers.DateField(
        required=False, help_text=_("Last day of the period, included; default today.")
    )
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    subtype = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text=_("Sub-type code.")
    )
    area_type = serializers.ChoiceField(choices=AreaType.choices, required=False, allow_blank=True)
    unit = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=_("Handling unit code.")
    )
    agent = serializers.CharField(
        max_length=150, required=False, allow_blank=True, help_text=_("Agent username.")
    )

    def _check_year(self, value: date) -> date:
        if not METRICS_YEARS[0] <= value.year <= METRICS_YEARS[1]:
            raise serializers.ValidationError(
                _("Choose a date between the years %(first)d and %(last)d.")
                % {"first": METRICS_YEARS[0], "last": METRICS_YEARS[1]}
            )
        return value

    def validate_start(self, value: date) -> date:
        return self._check_year(value)

    def validate_end(self, value: date) -> date:
        return self._check_year(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A missing end is counted from the start (or is today); a missing start from the end.
        span = timedelta(days=METRICS_DEFAULT_DAYS - 1)
        start, end = attrs.get("start"), attrs.get("end")
        if end is None:
            end = start + span if start else timezone.now().astimezone(BEIJING).date()
        if start is None:
            start = end - span
        if start > end:
            raise serializers.ValidationError({"end": [_("The end comes before the start.")]})
        if (end - start).days + 1 > METRICS_MAX_DAYS:
            raise serializers.ValidationError(
                {
                    "start": [
                        _("Ask for at most %(days)d days at a time.") % {"days": METRICS_MAX_DAYS}
                    ]
                }
            )
        attrs["start"], attrs["end"] = start, end
        return attrs

    def to_period_kwargs(self) -> dict[str, Any]:
        """[start 00:00, day after end 00:00) in Beijing: the days as the centre counts them."""
        data = dict(self.validated_data)
        start = datetime.combine(data.pop("start"), time.min, tzinfo=BEIJING)
        end = datetime.combine(data.pop("end") + timedelta(days=1), time.min, tzinfo=BEIJING)
        return {"start": start, "end": end, **{k: v for k, v in data.items() if v}}


METRICS_SCHEMA = {
    "type": "object",
    "description": "The figures of SPEC section 6 for the period: rates in percent (0–100) or null, "
    "durations in seconds.",
    "additionalProperties": True,
    "required": ["period"],
    "properties": {
        "period": {
            "type": "object",
            "properties": {
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
            },
        },
    },
}
