from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from helpdesk.health import healthz

urlpatterns = [
    path("", include("tickets.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("tickets.console.urls")),
    path("oncall/", include("escalation.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
