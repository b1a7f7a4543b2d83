"""Every Twilio webhook is signed: `X-Twilio-Signature` is checked with twilio's RequestValidator against the URL
Twilio requested, which is HELPDESK_PUBLIC_URL plus the path and query (the host and scheme this process sees may be
a TLS-terminating proxy's). No auth token configured, no signature or a wrong one: 403, and the view never runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from twilio.request_validator import RequestValidator

from hotline.backends import mask_phone

logger = logging.getLogger(__name__)


def signed_url(request: HttpRequest) -> str:
    return settings.HELPDESK_PUBLIC_URL + request.get_full_path()


def twilio_signed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = settings.TWILIO_AUTH_TOKEN
        if not token:
            logger.error("Refused a Twilio webhook to %s: TWILIO_AUTH_TOKEN is not set", request.path)
            return HttpResponseForbidden()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(token).validate(signed_url(request), request.POST, signature):
            logger.warning(
                "Refused a Twilio webhook to %s with a missing or wrong signature (From %s)",
                request.path,
                mask_phone(request.POST.get("From", "")),
            )
            return HttpResponseForbidden()
        return view(request, *args, **kwargs)

    return checked
