from __future__ import annotations

from django.urls import path

from tickets.console import views

app_name = "console"
urlpatterns = [
    path("", views.console_page, name="page"),
    path("tickets/<int:number>/", views.ticket_panel_view, name="ticket"),
    path("tickets/<int:number>/actions/<slug:action>/", views.ticket_action_view, name="action"),
]
