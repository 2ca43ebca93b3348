"""The work order (工单) and what hangs off it: the taxonomy, the timeline, hastenings.

Agents create orders on the call-intake screen while the customer is on the line;
integration clients (IVR, web/app/WeChat halls) create them through the REST API. Crews
and departments act on them from their order lists; every change appends a TicketEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext_lazy as _

from customers.models import AreaType


class Category(models.TextChoices):
    """The five fixed service categories. Time limits, routing and the API key on them."""

    REPAIR = "repair", _("Fault repair")
    INQUIRY = "inquiry", _("Inquiry")
    APPLICATION = "application", _("Service application")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Tip-off report")


class Status(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ON_SITE = "on_site", _("On site")
    # 回单: the unit has recorded its result; the centre checks it (回单审核).
    HANDED_BACK = "handed_back", _("Handed back, awaiting check")
    RESOLVED = "resolved", _("Resolved")
    VISITED = "visited", _("Return visit done")
    ARCHIVED = "archived", _("Archived")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged")
    # 服务终止: the claim is outside the utility's scope; closed with a reason, not resolved.
    TERMINATED = "terminated", _("Service terminated")


# A handed-back order is still open for the customer: a repeat call hastens it, and it
# stays on its unit's list until the centre accepts it.
OPEN_STATUSES = (
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.ACKNOWLEDGED,
    Status.ON_SITE,
    Status.HANDED_BACK,
)
CLOSED_STATUSES = (
    Status.RESOLVED,
    Status.VISITED,
    Status.ARCHIVED,
    Status.CANCELLED,
    Status.MERGED,
    Status.TERMINATED,
)


# The clocks whose due times `Ticket.deadlines` may hold (sla.models.TimerName, whose names
# tickets does not import; a test keeps the two equal).
DEADLINE_NAMES = (
    "answer",
    "dispatch",
    "arrival",
    "reply",
    "callback",
    "restoration",
    "contact",
    "handling",
    "visit",
)
# The states in which an order is on its unit's list, as the unit page's index is built
# (`ticket_unit_deadline_idx`): the open states, the hand-back (回单) awaiting the centre's
# check included. Written out, not derived from OPEN_STATUSES, so that a new state cannot
# silently change the index (a test keeps the two equal: a change needs a migration).
UNIT_LIST_STATUSES = ("accepted", "dispatched", "acknowledged", "on_site", "handed_back")


# Stands for "no clock running" in `next_deadline`: after every ISO date in text order.
NO_DEADLINE = "~"


def next_deadline() -> Least:
    """The order's nearest running due time, from its copy of the clocks (`deadlines`).

    The copies are ISO-8601 strings, all at the Beijing offset (tickets.services.
    deadlines_text), so text order is time order. A clock not running counts as NO_DEADLINE
    (also on SQLite, whose LEAST is NULL as soon as one argument is), so an order with no
    clock sorts last. The unit page sorts on it through an index on exactly this expression.
    """
    return Least(
        *(
            Coalesce(KT(f"deadlines__{name}"), models.Value(NO_DEADLINE, models.TextField()))
            for name in DEADLINE_NAMES
        )
    )


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    IVR = "ivr", _("IVR")
    WEB = "web", _("Web")
    APP = "app", _("Mobile app")
    WECHAT = "wechat", _("WeChat")
    COUNTER = "counter", _("Service counter")


class ReplyForm(models.TextChoices):
    ON_CALL = "on_call", _("Answered on the call")
    CALLBACK = "callback", _("Callback")
    SMS = "sms", _("SMS")


class AssetOwner(models.TextChoices):
    UTILITY = "utility", _("Utility-owned")
    CUSTOMER = "customer", _("Customer-owned")


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("Very satisfied")
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class SubType(models.Model):
    """The editable taxonomy below the five categories: sub-type, and detail below it.

    e.g. repair → 低压故障 → 一户无电. Administrators edit it in the admin; inactive rows stay
    on old orders but are no longer offered.
    """

    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="details",
    )
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    counted_separately = models.BooleanField(
        _("counted separately in reports"),
        default=False,
        help_text=_("Opinions, suggestions and praise are inquiries counted on their own."),
    )

    class Meta:
        verbose_name = _("sub-type")
        verbose_name_plural = _("sub-types")
        ordering = ["category", "sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class Ticket(models.Model):
    """A work order. Its owner is the agent who took the call (首问负责制)."""

    # NULL only inside the creating transaction: the number derives from the row id.
    number = models.CharField(  # noqa: DJ001
        _("order number"), max_length=24, null=True, editable=False
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    subtype = models.ForeignKey(
        SubType,
        verbose_name=_("sub-type"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    detail = models.ForeignKey(
        SubType,
        verbose_name=_("detail"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACCEPTED
    )

    caller_phone = models.CharField(_("caller number"), max_length=20)
    call_at = models.DateTimeField(_("call time"))
    call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("call"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner agent"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="owned_tickets",
    )
    created_via = models.CharField(
        _("created via"), max_length=60, blank=True, help_text=_("The integration client, if any.")
    )
    handling_unit = models.ForeignKey(
        "customers.HandlingUnit",
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="handled_tickets",
    )
    service_area = models.ForeignKey(
        "customers.ServiceArea",
        verbose_name=_("service area"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    area_type = models.CharField(
        _("area type"), max_length=10, choices=AreaType.choices, default=AreaType.URBAN
    )
    area_type_unconfirmed = models.BooleanField(
        _("area type to confirm"),
        default=False,
        help_text=_(
            "The area type was unknown: the strictest (urban) limit applies until confirmed."
        ),
    )
    to_complete = models.JSONField(
        _("details to complete"),
        default=list,
        blank=True,
        help_text=_(
            "Details the category needs that the channel did not give (e.g. the party "
            "complained about): taken anyway, for the handler to complete."
        ),
    )
    is_important = models.BooleanField(_("important customer"), default=False)
    # The due times of the running clocks (timer name → ISO-8601, Beijing offset), copied from
    # the SLA timers by the ticket services at every change: what the lists show of each
    # order without reading its timers. The timers stay the record (sla.Timer).
    deadlines = models.JSONField(_("running deadlines"), default=dict, blank=True, editable=False)

    # Repeat calls, supervision and merging.
    call_count = models.PositiveIntegerField(_("calls"), default=1)
    supervised = models.BooleanField(_("supervised"), default=False)
    # Set by the follow-up of the order's first breach (tickets.services.
    # tickets_breach_followup, right after the scan that records it); a breach is never
    # undone. What the lists' `breached` filter reads, through a partial index.
    breached = models.BooleanField(_("limit breached"), default=False, editable=False)
    supervised_at = models.DateTimeField(_("supervised since"), null=True, blank=True)
    master = models.ForeignKey(
        "self",
        verbose_name=_("master order"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="children",
    )
    outage = models.ForeignKey(
        "outages.Outage",
        verbose_name=_("outage"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="tickets",
    )

    # Inquiry.
    reply_form = models.CharField(
        _("reply form"), max_length=20, choices=ReplyForm.choices, blank=True
    )
    # Inquiry, complaint, report: the written reply and when it was recorded.
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    knowledge_article = models.ForeignKey(
        "knowledge.Article",
        verbose_name=_("knowledge article"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Application.
    application_channel = models.CharField(
        _("application channel"), max_length=20, choices=Channel.choices, blank=True
    )
    resident_id = models.CharField(_("householder's resident ID number"), max_length=18, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    power_on_at = models.DateTimeField(_("power-on time"), null=True, blank=True)
    customer_feedback = models.TextField(_("customer feedback"), blank=True)

    # Repair.
    feeder = models.CharField(_("feeder"), max_length=60, blank=True)
    transformer_area = models.CharField(_("transformer area"), max_length=60, blank=True)
    inside_customer_installation = models.BooleanField(
        _("fault inside the customer's installation"), default=False
    )
    asset_owner = models.CharField(
        _("asset owner"), max_length=10, choices=AssetOwner.choices, blank=True
    )
    is_paid = models.BooleanField(_("paid service"), default=False)
    paid_override_reason = models.CharField(
        _("reason for overriding paid/free"), max_length=200, blank=True
    )
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    cause = models.TextField(_("cause found"), blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    restored_at = models.DateTimeField(_("power restored at"), null=True, blank=True)

    # Complaint / report.
    party = models.CharField(_("party complained about or reported"), max_length=200, blank=True)

    # Return visit.
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    visit_note = models.TextField(_("return visit note"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    termination_reason = models.CharField(
        _("reason for terminating the service"), max_length=200, blank=True
    )
    # 退单: how many times the centre sent the unit's result back (each one is also a
    # timeline event naming the unit, which is what the report counts per unit).
    return_count = models.PositiveSmallIntegerField(_("times returned by the check"), default=0)

    # Life-cycle times (UTC). `created_at` is the acceptance time.
    created_at = models.DateTimeField(_("accepted at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived on site at"), null=True, blank=True)
    # The first time the unit reached the customer (the `contact` milestone).
    contacted_at = models.DateTimeField(_("customer contacted at"), null=True, blank=True)
    # The last hand-back (回单); `resolved_at` is when the centre accepted it.
    handed_back_at = models.DateTimeField(_("handed back at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    visited_at = models.DateTimeField(_("return visit at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("cancelled, merged or terminated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        # Every index costs each order taken (the API's create path): foreign keys are covered
        # by these composite indexes or are rare filters, so they carry no index of their own.
        constraints = [models.UniqueConstraint(fields=["number"], name="ticket_number_uniq")]
        indexes = [
            models.Index(fields=["caller_phone"], name="ticket_caller_phone_idx"),
            models.Index(
                fields=["master"],
                name="ticket_master_idx",
                condition=models.Q(master__isnull=False),
            ),
            models.Index(
                fields=["outage"],
                name="ticket_outage_idx",
                condition=models.Q(outage__isnull=False),
            ),
            models.Index(fields=["owner", "status"], name="ticket_owner_status_idx"),
            models.Index(fields=["handling_unit", "status"], name="ticket_unit_status_idx"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status_idx"),
            # Lists show the newest first, ordered by (created_at, id): with the id in the key,
            # a page — unfiltered or filtered by one of these — is one backward range scan
            # that stops after the page, however far back the matching orders lie.
            models.Index(fields=["created_at", "id"], name="ticket_created_idx"),
            models.Index(
                fields=["category", "created_at", "id"], name="ticket_category_created_idx"
            ),
            models.Index(fields=["status", "created_at", "id"], name="ticket_status_created_idx"),
            models.Index(fields=["area_type", "created_at", "id"], name="ticket_area_created_idx"),
            # The crews' and departments' pages: a unit's orders, nearest deadline first, one
            # ordered range scan that stops after the page (field.selectors).
            models.Index(
                "handling_unit",
                next_deadline(),
                "id",
                name="ticket_unit_deadline_idx",
                condition=models.Q(status__in=UNIT_LIST_STATUSES),
            ),
            # Costs nothing on a new order (never breached when taken).
            models.Index(
                fields=["created_at", "id"],
                name="ticket_breached_created_idx",
                condition=models.Q(breached=True),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(models.Model):
    """One line of an order's timeline: the audit trail and the source of every duration.

    Appended by the services on every change (state moves, hastenings, notes, timer pauses,
    breach acknowledgements). Never updated or deleted.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status change")
        HASTENING = "hastening", _("Hastening")
        NOTE = "note", _("Note")
        SUPERVISED = "supervised", _("Marked supervised")
        LINKED = "linked", _("Linked")
        TIMER = "timer", _("Timer")
        BREACH = "breach", _("Time limit breached")
        UPDATE = "update", _("Fields updated")
        # A step that leaves the state as it is (the unit contacted the customer).
        MILESTONE = "milestone", _("Milestone")

    ticket = models.ForeignKey(
        Ticket, db_index=False, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("by (system or client)"), max_length=60, blank=True)
    action = models.CharField(_("action"), max_length=20, blank=True)
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="ticketevent_ticket_at_idx"),
            # The report counts the centre's returns (退单) per unit: few rows among millions.
            models.Index(
                fields=["ticket"],
                name="ticketevent_return_idx",
                condition=models.Q(action="return_check"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Hastening(models.Model):
    """A repeat call on an open order (催办): logged on the order instead of a new one."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="hastenings")
    at = models.DateTimeField(_("at"))
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    text = models.TextField(_("what the caller said"), blank=True)
    caller_phone = models.CharField(_("caller number"), max_length=20, blank=True)
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("hastening")
        verbose_name_plural = _("hastenings")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.at:%Y-%m-%d %H:%M}"
