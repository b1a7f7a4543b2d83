from __future__ import annotations

from django.urls import path

from notifications import views

urlpatterns = [
    path("settings/", views.my_settings, name="my_settings"),
    path("tickets/<int:number>/watchers/", views.watcher_add_view, name="ticket_watcher_add"),
    path(
        "tickets/<int:number>/watchers/<int:user_id>/remove/", views.watcher_remove_view, name="ticket_watcher_remove"
    ),
]
