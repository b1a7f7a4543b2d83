from __future__ import annotations

from django.urls import path

from tickets.console import views

app_name = "console"
urlpatterns = [
    path("", views.console_page, name="page"),
    path("tickets/new/", views.ticket_new_view, name="ticket_new"),
    path("tickets/<int:number>/", views.ticket_panel_view, name="ticket"),
    path("agencies/<int:agency_id>/members/", views.agency_members_view, name="agency_members"),
    path("search/", views.search_view, name="search"),
    path("tickets/<int:number>/actions/<slug:action>/", views.ticket_action_view, name="action"),
]
