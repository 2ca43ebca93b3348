from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("intake/caller/", views.caller_panel, name="caller_panel"),
    path("intake/live-call/", views.live_call, name="live_call"),
    path("intake/call-disposition/", views.call_disposition, name="call_disposition"),
    path("mine/", views.my_orders, name="my_orders"),
    path("unit/", views.unit_orders, name="unit_orders"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/hasten/", views.hasten, name="hasten"),
    path("<str:number>/do/<str:action>/", views.ticket_action, name="action"),
    path("<str:number>/reveal/<str:field>/", views.reveal, name="reveal"),
]
