from django.urls import path

from visits import views

app_name = "visits"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("orders/<str:number>/", views.ticket_visit, name="ticket"),
    path("outages/<str:number>/", views.outage_visit, name="outage"),
]
