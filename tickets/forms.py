"""Forms of the agency web pages: opening a ticket, replying, confirming a fix, reopening and cancelling."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tickets.exceptions import AgencySuspended
from tickets.lifecycle import PRIORITY_MATRIX
from tickets.models import Level, Priority, Service
from tickets.phones import phone_e164
from tickets.selectors import agency_suspended, service_list_active

SNIFF_BYTES = 4096
GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# What browsers and operating systems also declare for files of these types.
DECLARED_ALIASES: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"image/pjpeg", "image/jpg"}),
    "image/png": frozenset({"image/x-png"}),
    "application/pdf": frozenset({"application/x-pdf"}),
    "text/plain": frozenset({"text/x-log"}),
    "text/csv": frozenset({"text/plain", "text/x-csv", "application/csv", "application/vnd.ms-excel"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({"application/zip"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({"application/zip"}),
}

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def normalize_phone(value: str) -> str:
    """The number in E.164 (`tickets.phones`, so every stored number has one form), "" for an empty field, or
    ValidationError. Spaces, dashes, `00` for `+`, a national Qatar number and Arabic-Indic digits are accepted."""
    if not value.strip():
        return ""
    try:
        return phone_e164(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid_phone") from error


def _is_zip_with(member: str) -> Callable[[UploadedFile, bytes], bool]:
    def check(upload: UploadedFile, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(upload) as archive:
                return member in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return False
        finally:
            upload.seek(0)

    return check


def _is_text(upload: UploadedFile, head: bytes) -> bool:
    return b"\x00" not in head


def _starts_with(*signatures: bytes) -> Callable[[UploadedFile, bytes], bool]:
    def check(upload: UploadedFile, head: bytes) -> bool:
        return head.startswith(signatures)

    return check


# What the first bytes of a file of each accepted content type look like.
CONTENT_SNIFFERS: dict[str, Callable[[UploadedFile, bytes], bool]] = {
    "image/png": _starts_with(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": _starts_with(b"\xff\xd8\xff"),
    "image/gif": _starts_with(b"GIF87a", b"GIF89a"),
    "application/pdf": _starts_with(b"%PDF-"),
    "text/plain": _is_text,
    "text/csv": _is_text,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _is_zip_with("word/document.xml"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _is_zip_with("xl/workbook.xml"),
}


def validate_attachment(upload: UploadedFile) -> None:
    """Accept a file only if its extension is allowed, its declared type agrees with it, and its content looks like
    it. On success the upload's content type is set to the one the extension stands for, which is what downloads
    are served with."""
    name = upload.name or ""
    allowed: dict[str, str] = settings.HELPDESK_ATTACHMENT_TYPES
    expected = allowed.get(PurePath(name).suffix.lower())
    if expected is None:
        raise ValidationError(
            _("“%(name)s” is not an accepted type of file. Accepted: %(extensions)s."),
            code="file_type",
            params={"name": name, "extensions": ", ".join(sorted(allowed))},
        )
    if len(name) > 255:
        raise ValidationError(_("The name of “%(name)s…” is too long."), code="file_name", params={"name": name[:40]})
    if not upload.size:
        raise ValidationError(_("“%(name)s” is empty."), code="file_empty", params={"name": name})
    limit = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is too large (%(size)s); the limit is %(limit)s."),
            code="file_size",
            params={"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    accepted = {expected} | GENERIC_CONTENT_TYPES | DECLARED_ALIASES.get(expected, frozenset())
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    sniffer = CONTENT_SNIFFERS.get(expected)
    if declared not in accepted or (sniffer is not None and not sniffer(upload, head)):
        raise ValidationError(
            _("The content of “%(name)s” does not match its type."), code="file_content", params={"name": name}
        )
    upload.content_type = expected


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input, each checked with validate_attachment, at most HELPDESK_ATTACHMENT_MAX_FILES."""

    def __init__(self, **kwargs) -> None:
        accept = ",".join(sorted(settings.HELPDESK_ATTACHMENT_TYPES))
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        uploads = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not uploads and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        max_files = settings.HELPDESK_ATTACHMENT_MAX_FILES
        if len(uploads) > max_files:
            raise ValidationError(
                _("Attach at most %(max)d files (you chose %(count)d)."),
                code="too_many_files",
                params={"max": max_files, "count": len(uploads)},
            )
        errors: list[ValidationError] = []
        for upload in uploads:
            try:
                super().clean(upload, initial)
                validate_attachment(upload)
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return uploads


def _level_choices() -> list[tuple[str | int, StrOrPromise]]:
    return [("", _("Choose…")), *Level.choices]


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return obj.name


def attachments_help_text() -> str:
    return _("Up to %(max)d files of at most %(limit)s each: %(extensions)s.") % {
        "max": settings.HELPDESK_ATTACHMENT_MAX_FILES,
        "limit": filesizeformat(settings.HELPDESK_ATTACHMENT_MAX_BYTES),
        "extensions": ", ".join(sorted(settings.HELPDESK_ATTACHMENT_TYPES)),
    }


class TicketOpenForm(forms.Form):
    service = ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        empty_label=_("Choose the affected service…"),
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"),
        choices=_level_choices,
        coerce=int,
        help_text=_("High: a whole agency or a public service is affected. Low: one person."),
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        choices=_level_choices,
        coerce=int,
        help_text=_("High: work has stopped and cannot wait. Low: it can wait for a few days."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, since when, who is affected, and any error message you saw."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "dir": "ltr"}),
        help_text=_("A number the technician can call you on, for example +974 4400 0000."),
    )
    attachments = AttachmentsField(label=_("Attachments"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help_text()
        service = self.fields["service"]
        assert isinstance(service, ServiceChoiceField)
        service.queryset = service_list_active()

    @staticmethod
    def priority_preview() -> str:
        """The priority each impact and urgency give (`tickets.lifecycle.PRIORITY_MATRIX`), as JSON keyed
        "impact:urgency", for the form to show before it is sent."""
        return json.dumps(
            {
                f"{impact}:{urgency}": {"value": priority, "label": str(Priority(priority).label)}
                for (impact, urgency), priority in PRIORITY_MATRIX.items()
            },
            ensure_ascii=False,
        )

    def clean_contact_phone(self) -> str:
        return normalize_phone(self.cleaned_data["contact_phone"])


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = AttachmentsField(label=_("Attachments"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help_text()


class TicketActionForm(forms.Form):
    """A status change the requester asks for, checked against the version of the ticket they were looking at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class TicketReopenForm(TicketActionForm):
    reason = forms.CharField(
        label=_("Why is the problem not fixed?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TicketCancelForm(TicketActionForm):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LoginForm(AuthenticationForm):
    """The login form: staff of an agency whose access is suspended are told so instead of being let in."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if agency_suspended(user):
            raise ValidationError(AgencySuspended.default_message, code="agency_suspended")
