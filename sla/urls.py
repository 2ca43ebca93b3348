from django.urls import path

from sla import views

app_name = "sla"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/unread.json", views.notification_unread, name="notifications_unread"),
    path("notifications/read/", views.notification_read, name="notifications_read"),
]
