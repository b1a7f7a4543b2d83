from __future__ import annotations

from django.urls import path

from hotline import views

app_name = "hotline"

urlpatterns = [
    path("voice/", views.voice, name="voice"),
    path("voice/page/<int:page_id>/", views.page, name="page"),
    path("voice/page/<int:page_id>/key/", views.page_key, name="page_key"),
    path("voice/<slug:step>/", views.voice, name="voice_step"),
    path("recording/", views.recording, name="recording"),
    path("sms/", views.sms, name="sms"),
    path("status/", views.status, name="status"),
]
