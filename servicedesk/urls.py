from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from servicedesk.middleware import API_PREFIX

# An error no view handled: JSON in the API's one shape for /api/, Django's page elsewhere.
handler500 = "api.exceptions.server_error"
# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413, JSON for /api/, a page elsewhere.
handler400 = "servicedesk.views.bad_request"

admin.site.site_header = _("95598 Service Desk administration")
admin.site.site_title = _("95598 Service Desk")

urlpatterns = [
    # First: the API is asked hundreds of times a second, the pages a few times each.
    path(API_PREFIX.removeprefix("/"), include("api.urls")),
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tickets/", include("tickets.urls")),
    path("outages/", include("outages.urls")),
    path("field/", include("field.urls")),
    path("matters/", include("matters.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("visits/", include("visits.urls")),
    path("sla/", include("sla.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]
