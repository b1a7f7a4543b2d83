from __future__ import annotations

from django.urls import path

from escalation import views

urlpatterns = [
    path("", views.oncall_page, name="oncall"),
    path("calendar-link/", views.oncall_token_regenerate, name="oncall_token"),
    path("<slug:token>.ics", views.oncall_feed, name="oncall_feed"),
]
