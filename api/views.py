"""The REST endpoints of SPEC section 7 (DRF). Each parses, resolves through a selector,
calls one service, and serializes — the browser pages call the same services.

Errors share one shape (api.exceptions); POSTs of integration clients honour
`Idempotency-Key` (api.idempotency).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import schema as docs
from api.authentication import ClientTokenAuthentication
from api.exceptions import api_exception_handler
from api.filters import BreachFilter, TicketFilter
from api.idempotency import respond_idempotently
from api.pagination import ApiCursorPagination, BreachCursorPagination
from api.permissions import MatrixPermission, actor_for, client_of
from api.selectors import (
    breach_list_for_api,
    ticket_get_for_action,
    ticket_get_for_api,
    ticket_rows_for_api,
)
from api.serializers import (
    ActionInputSerializer,
    BreachSerializer,
    CallEventInputSerializer,
    CallSerializer,
    CancelInputSerializer,
    DispatchInputSerializer,
    HandbackInputSerializer,
    MetricsQuerySerializer,
    NoteInputSerializer,
    ReasonInputSerializer,
    RedispatchInputSerializer,
    ReplyInputSerializer,
    ResolveInputSerializer,
    TicketCreatedSerializer,
    TicketCreateInputSerializer,
    TicketDetailSerializer,
    TicketListItemSerializer,
    VisitInputSerializer,
)
from privacy.rules import api_order_shown, api_rows_shown
from sla.models import Breach
from tickets import services as ticket_services
from tickets.lifecycle import Action, target_of
from tickets.models import Ticket
from tickets.permissions import ticket_action_allowed


class ApiView(APIView):
    """Token first (so a request without credentials answers 401), then the browser session;
    who may call it is written in the permission matrix (`accounts.matrix.API`)."""

    authentication_classes = [ClientTokenAuthentication, SessionAuthentication]
    permission_classes = [MatrixPermission]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Callable:
        return api_exception_handler

    @property
    def client(self):
        return client_of(self.request)


def refuse_empty_parameters(request, names) -> None:
    """`?category=` is neither a category nor "any": the documented way to say "any" is to
    leave the parameter out, so an empty value is refused like any other unknown value."""
    empty = {
        name: [_("Leave the parameter out instead of sending it empty.")]
        for name in names
        if request.query_params.get(name, None) == ""
    }
    if empty:
        raise ValidationError(empty)


class ListApiView(ApiView):
    """A list endpoint: django-filter for the query string, cursor pages.

    `queryset` is only read by the schema generator (to document the filters); the rows
    come from a selector.
    """

    filter_backends = [DjangoFilterBackend]
    filterset_class: type | None = None
    pagination_class: type = ApiCursorPagination

    def filter_queryset(self, queryset):
        names = self.filterset_class.base_filters
        refuse_empty_parameters(self.request, [*names, "cursor", "page_size"])
        # Without a filter in the query string there is nothing to validate or apply: the
        # common request (the newest page, the next page) skips building the filter form.
        if not any(name in self.request.query_params for name in names):
            return queryset
        for backend in self.filter_backends:
            queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def paginated(
        self, queryset, serializer_class, complete: Callable[[list], list] | None = None
    ) -> Response:
        """One page of the filtered queryset; `complete` adds what the page query did not read."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self.filter_queryset(queryset), self.request, view=self)
        if complete is not None:
            page = complete(page)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- Orders ---------------------------------------------------------------------------------


class TicketListCreateApi(ListApiView):
    """`GET` lists orders, newest first, in cursor pages of 50 (`page_size` up to 200);
    `POST` takes a new order."""

    filterset_class = TicketFilter
    queryset = Ticket.objects.none()

    @extend_schema(
        operation_id="tickets_list",
        summary=_("List work orders"),
        responses={
            200: TicketListItemSerializer(many=True),
            **docs.errors(400, 401, 403, body=False),
        },
        tags=["tickets"],
    )
    def get(self, request):
        client = self.client

        def complete(rows: list[dict]) -> list[dict]:
            # Phone numbers as privacy.rules lets this requester see them in a list.
            return api_rows_shown(rows, client=client)

        return self.paginated(
            ticket_rows_for_api(client=client, user=request.user),
            TicketListItemSerializer,
            complete=complete,
        )

    @extend_schema(
        operation_id="tickets_create",
        summary=_("Take a new work order"),
        description=docs.CREATE_DESCRIPTION,
        parameters=[docs.IDEMPOTENCY_KEY],
        request=TicketCreateInputSerializer,
        responses={201: TicketCreatedSerializer, **docs.errors(400, 401, 403, 409)},
        examples=docs.CREATE_EXAMPLES,
        tags=["tickets"],
    )
    def post(self, request):
        serializer = TicketCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = actor_for(request)

        def perform() -> tuple[int, Any]:
            # A repair from an area an active outage covers is linked to it (storm mode).
            ticket = ticket_services.ticket_create(
                draft=serializer.to_draft(), actor=actor, link_outage=True
            )
            return status.HTTP_201_CREATED, TicketCreatedSerializer(ticket).data

        return respond_idempotently(request, perform)


class TicketDetailApi(ApiView):
    """The order with its running deadlines, its recorded breaches and its whole timeline."""

    @extend_schema(
        operation_id="tickets_retrieve",
        summary=_("One work order with its deadlines, breaches and timeline"),
        responses={200: TicketDetailSerializer, **docs.errors(401, 403, 404)},
        tags=["tickets"],
    )
    def get(self, request, number: str):
        ticket = ticket_get_for_api(client=self.client, user=request.user, number=number)
        answer = TicketDetailSerializer(ticket).data
        return Response(
            api_order_shown(answer, ticket=ticket, client=self.client, user=request.user)
        )


class TicketActionApi(ApiView):
    """One life-cycle action: `POST /api/v1/tickets/{number}/{action}/`.

    The action's time is the server's clock. An action the current state does not allow
    answers 409 and changes nothing; a person signed in with the browser may only take the
    actions their role allows on that order (tickets.permissions), a client needs the
    `tickets:act` scope.
    """

    action: str = ""
    input_serializer: type[ActionInputSerializer] = NoteInputSerializer
    service: Callable[..., Ticket]

    def post(self, request, number: str):
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.to_service_kwargs()
        actor = actor_for(request)
        client = self.client

        def perform() -> tuple[int, Any]:
            ticket = ticket_get_for_action(client=client, user=request.user, number=number)
            if client is None and target_of(
                action=self.action, category=ticket.category, status=ticket.status
            ):
                if not ticket_action_allowed(user=request.user, ticket=ticket, action=self.action):
                    raise PermissionDenied(_("Your role may not take this action on this order."))
            type(self).service(ticket=ticket, actor=actor, **kwargs)
            fresh = ticket_get_for_api(
                client=client, user=request.user, number=number, after_action=True
            )
            answer = TicketDetailSerializer(fresh).data
            return status.HTTP_200_OK, api_order_shown(
                answer, ticket=fresh, client=client, user=request.user
            )

        return respond_idempotently(request, perform)


def _action_api(
    action: Action,
    service: Callable[..., Ticket],
    input_serializer: type[ActionInputSerializer],
    summary: str,
) -> type[TicketActionApi]:
    # accept_check → TicketAcceptCheckApi
    name = "Ticket" + "".join(part.capitalize() for part in action.value.split("_")) + "Api"
    view = type(
        name,
        (TicketActionApi,),
        {
            "action": action.value,
            "input_serializer": input_serializer,
            "service": staticmethod(service),
            "__doc__": f"`POST /api/v1/tickets/{{number}}/{action.value}/` (see TicketActionApi).",
            "__module__": __name__,
        },
    )

    # A function of its own per action, so each gets its own schema annotations.
    def post(self, request, number: str):
        return TicketActionApi.post(self, request, number)

    view.post = extend_schema(
        operation_id=f"tickets_{action.value}",
        summary=summary,
        description=docs.ACTION_DESCRIPTION,
        parameters=[docs.IDEMPOTENCY_KEY],
        request=input_serializer,
        responses={200: TicketDetailSerializer, **docs.errors(400, 401, 403, 404, 409)},
        examples=docs.ACTION_EXAMPLES[action.value],
        tags=["ticket actions"],
    )(post)
    return view


TicketDispatchApi = _action_api(
    Action.DISPATCH,
    ticket_services.ticket_dispatch,
    DispatchInputSerializer,
    _("Dispatch the order to its handling unit (派单)"),
)
TicketAcknowledgeApi = _action_api(
    Action.ACKNOWLEDGE,
    ticket_services.ticket_acknowledge,
    NoteInputSerializer,
    _("The handling unit accepts the order (接单)"),
)
TicketArriveApi = _action_api(
    Action.ARRIVE,
    ticket_services.ticket_record_arrival,
    NoteInputSerializer,
    _("The crew is on site (到达现场)"),
)
TicketResolveApi = _action_api(
    Action.RESOLVE,
    ticket_services.ticket_resolve,
    ResolveInputSerializer,
    _("Record the result (回单)"),
)
TicketReplyApi = _action_api(
    Action.REPLY,
    ticket_services.ticket_reply,
    ReplyInputSerializer,
    _("Record the written reply to a complaint, report or callback inquiry"),
)
TicketVisitApi = _action_api(
    Action.VISIT,
    ticket_services.ticket_visit,
    VisitInputSerializer,
    _("Record the return visit (回访)"),
)
TicketArchiveApi = _action_api(
    Action.ARCHIVE,
    ticket_services.ticket_archive,
    NoteInputSerializer,
    _("Archive the order (归档)"),
)
TicketCancelApi = _action_api(
    Action.CANCEL,
    ticket_services.ticket_cancel,
    CancelInputSerializer,
    _("Cancel an open order, with a reason"),
)

TicketRedispatchApi = _action_api(
    Action.REDISPATCH,
    ticket_services.ticket_redispatch,
    RedispatchInputSerializer,
    _("Re-dispatch the order to another unit, with a reason (转派); the clocks run on"),
)
TicketContactApi = _action_api(
    Action.CONTACT,
    ticket_services.ticket_record_contact,
    NoteInputSerializer,
    _("The unit has contacted the customer (a milestone; the state stays)"),
)
TicketHandbackApi = _action_api(
    Action.HANDBACK,
    ticket_services.ticket_handback,
    HandbackInputSerializer,
    _("Hand the result back for the centre's check (回单)"),
)
TicketAcceptCheckApi = _action_api(
    Action.ACCEPT_CHECK,
    ticket_services.ticket_check_accept,
    NoteInputSerializer,
    _("The centre accepts the handed-back result (回单审核): the order is resolved"),
)
TicketReturnCheckApi = _action_api(
    Action.RETURN_CHECK,
    ticket_services.ticket_check_return,
    ReasonInputSerializer,
    _("The centre sends the result back to the unit, with a reason (退单)"),
)
TicketTerminateApi = _action_api(
    Action.TERMINATE,
    ticket_services.ticket_terminate,
    ReasonInputSerializer,
    _("Close a claim outside the utility's scope, with a reason (服务终止)"),
)

TICKET_ACTION_APIS: dict[str, type[TicketActionApi]] = {
    view.action: view
    for view in (
        TicketDispatchApi,
        TicketAcknowledgeApi,
        TicketArriveApi,
        TicketResolveApi,
        TicketReplyApi,
        TicketVisitApi,
        TicketArchiveApi,
        TicketCancelApi,
        TicketRedispatchApi,
        TicketContactApi,
        TicketHandbackApi,
        TicketAcceptCheckApi,
        TicketReturnCheckApi,
        TicketTerminateApi,
    )
}


# --- Calls ----------------------------------------------------------------------------------


class CallEventCreateApi(ApiView):
    """A switch event. Repeats and any order give one call record with the right times."""

    @extend_schema(
        operation_id="calls_event",
        summary=_("Push a call event from the telephony switch"),
        description=docs.CALL_DESCRIPTION,
        parameters=[docs.IDEMPOTENCY_KEY],
        request=CallEventInputSerializer,
        responses={201: CallSerializer, 200: CallSerializer, **docs.errors(400, 401, 403, 409)},
        examples=docs.CALL_EXAMPLES,
        tags=["calls"],
    )
    def post(self, request):
        serializer = CallEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def perform() -> tuple[int, Any]:
            result = ticket_services.call_event_handle(**serializer.to_service_kwargs())
            code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            return code, CallSerializer(result.call).data

        return respond_idempotently(request, perform)


# --- SLA and figures ------------------------------------------------------------------------


class BreachListApi(ListApiView):
    """Recorded breaches, newest first: when each timer ran out, on which order and unit."""

    filterset_class = BreachFilter
    pagination_class = BreachCursorPagination
    queryset = Breach.objects.none()

    @extend_schema(
        operation_id="sla_breaches_list",
        summary=_("Recorded time-limit breaches, newest first"),
        responses={200: BreachSerializer(many=True), **docs.errors(400, 401, 403, body=False)},
        tags=["sla"],
    )
    def get(self, request):
        return self.paginated(
            breach_list_for_api(client=self.client, user=request.user), BreachSerializer
        )


class MetricsGetApi(ApiView):
    """The supervisors' period figures (dashboard.metrics.period_metrics)."""

    @extend_schema(
        operation_id="metrics_retrieve",
        summary=_("The supervisors' figures for a period"),
        description=docs.METRICS_DESCRIPTION,
        parameters=[MetricsQuerySerializer],
        responses={200: docs.METRICS_RESPONSE, **docs.errors(400, 401, 403, body=False)},
        tags=["metrics"],
    )
    def get(self, request):
        from dashboard.metrics.figures import period_metrics

        # A plain dict, not the QueryDict: DRF would read an empty `?start=` as "not given".
        query = MetricsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(period_metrics(**query.to_period_kwargs()))


# --- Schema and docs ------------------------------------------------------------------------


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI document: for signed-in people and token holders only."""

    authentication_classes = [ClientTokenAuthentication, SessionAuthentication]
    permission_classes = [MatrixPermission]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI. A browser that is not signed in is sent to the login page first. The page
    loads its start-up script from /api/docs/?script instead of carrying it inline, so it
    runs under the content security policy."""

    authentication_classes = [ClientTokenAuthentication, SessionAuthentication]
    permission_classes = [MatrixPermission]
    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
