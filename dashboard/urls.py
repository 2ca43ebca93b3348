from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.wallboard, name="wallboard"),
    path("live/", views.wallboard_live, name="wallboard_live"),
    path("breaches/", views.breaches, name="breaches"),
    path("breaches/<int:pk>/acknowledge/", views.breach_acknowledge, name="breach_acknowledge"),
    path("estimated/", views.estimated, name="estimated"),
    path("report/", views.report, name="report"),
    path("report/drill/<str:figure>/", views.drill, name="drill"),
]
