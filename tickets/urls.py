from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("unit/", views.unit_orders, name="unit_orders"),
    path("<str:number>/", views.detail, name="detail"),
]
