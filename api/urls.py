"""/api/: the OpenAPI document, its interactive docs, and version 1 of the contract (SPEC section 7)."""

from django.urls import include, path

from api import views

v1 = [
    path("tickets/", views.TicketListCreateApi.as_view(), name="tickets"),
    path("tickets/<str:number>/", views.TicketDetailApi.as_view(), name="ticket-detail"),
    *[
        path(f"tickets/<str:number>/{action}/", view.as_view(), name=f"ticket-{action}")
        for action, view in views.TICKET_ACTION_APIS.items()
    ],
    path("calls/", views.CallEventCreateApi.as_view(), name="call-events"),
    path("sla/breaches/", views.BreachListApi.as_view(), name="sla-breaches"),
    path("metrics/", views.MetricsGetApi.as_view(), name="metrics"),
]

urlpatterns = [
    path("schema/", views.ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    # URL names: "api_v1:tickets", "api_v1:ticket-cancel", …
    path("v1/", include((v1, "api_v1"))),
]
