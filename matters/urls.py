from django.urls import path

from matters import views

app_name = "matters"

urlpatterns = [
    path("", views.matter_list, name="list"),
    path("new/", views.matter_create, name="create"),
    path("<int:pk>/edit/", views.matter_edit, name="edit"),
]
