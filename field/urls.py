from django.urls import path

from field import views

app_name = "field"

urlpatterns = [
    path("crew/", views.crew_orders, name="crew_orders"),
    path("crew/<str:number>/", views.crew_order, name="crew_order"),
    path("crew/<str:number>/do/<str:action>/", views.crew_action, name="crew_action"),
    path("department/", views.department_orders, name="department_orders"),
    path("department/<str:number>/", views.department_order, name="department_order"),
    path(
        "department/<str:number>/do/<str:action>/",
        views.department_action,
        name="department_action",
    ),
]
