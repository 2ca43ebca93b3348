from django.urls import path

from outages import views

app_name = "outages"

urlpatterns = [
    path("", views.outage_list, name="list"),
    path("new/", views.outage_create, name="create"),
    path("<str:number>/", views.outage_detail, name="detail"),
    path("<str:number>/edit/", views.outage_edit, name="edit"),
    path("<str:number>/restoration/", views.outage_restoration, name="restoration"),
    path("<str:number>/dispatch/", views.outage_dispatch, name="dispatch"),
    path("<str:number>/authority/", views.outage_authority_report, name="authority"),
    path("<str:number>/end/", views.outage_end, name="end"),
]
