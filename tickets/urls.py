from __future__ import annotations

from django.urls import path

from tickets import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:number>/comments/", views.ticket_comment_create, name="ticket_comment"),
    path("tickets/<int:number>/close/", views.ticket_close_view, name="ticket_close"),
    path("tickets/<int:number>/reopen/", views.ticket_reopen_view, name="ticket_reopen"),
    path("tickets/<int:number>/cancel/", views.ticket_cancel_view, name="ticket_cancel"),
    path(
        "tickets/<int:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="ticket_attachment",
    ),
]
