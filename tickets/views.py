"""The agency web pages: opening a ticket, the agency's ticket list, one ticket with its timeline, and the
requester's actions on it. Each view parses the request, calls one service or selector and renders the result;
a ticket outside `ticket_list_for(user)` is a 404 on every page and action."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from helpdesk.middleware import accepts_uploads
from notifications.selectors import watcher_context
from tickets.exceptions import (
    AgencySuspended,
    AlreadyClaimed,
    InvalidTransition,
    NotAllowed,
    StaleTicket,
    TicketError,
)
from tickets.filters import TicketFilter
from tickets.forms import CommentForm, TicketActionForm, TicketCancelForm, TicketOpenForm, TicketReopenForm
from tickets.models import Attachment, Channel, Comment, Status, Ticket, TicketEvent
from tickets.selectors import (
    agency_suspended,
    attachment_list_for,
    comment_list_for,
    event_note,
    ticket_list_for,
    ticket_timeline,
    user_agency,
    user_is_technician,
)
from tickets.sentences import event_sentence
from tickets.services import ticket_cancel, ticket_close, ticket_comment, ticket_open, ticket_reopen

CONSOLE_URL = "/console/"


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind login_required."""

    user: User
TICKETS_PER_PAGE = 25


class BoundedPaginator(Paginator):
    """Counts the rows only as far as the pager needs: to the next thousand past the page asked for. A longer list
    says "more than N tickets" and has no last page, and each view costs a COUNT of at most that many rows instead
    of one over all of an agency's tickets."""

    bound = 1000

    def get_page(self, number: Any) -> Any:
        try:
            wanted = max(int(number), 1)
        except (TypeError, ValueError):
            wanted = 1
        self.bound = (wanted * self.per_page // 1000 + 1) * 1000
        return super().get_page(number)

    object_list: QuerySet[Ticket]

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.bound + 1].count()

    @property
    def exact(self) -> bool:
        """Whether `count` is every row, not just more than `bound`."""
        return self.count <= self.bound


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "tickets/forbidden.html", {"message": message}, status=403)


def _no_role_message() -> str:
    return _(
        "Your account is not linked to an agency or a support team yet. Ask your helpdesk administrator to add you."
    )


def agency_active_required[View: Callable[..., HttpResponseBase]](view: View) -> View:
    """Refuse, with the reason, agency staff whose agency's access is suspended."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if agency_suspended(request.user):
            return _forbidden(request, str(AgencySuspended.default_message))
        return view(request, *args, **kwargs)

    return cast(View, checked)


def _visible_ticket(request: AuthenticatedHttpRequest, number: int) -> Ticket:
    return get_object_or_404(ticket_list_for(request.user), number=number)


def _error_status(error: TicketError) -> int:
    if isinstance(error, InvalidTransition | StaleTicket | AlreadyClaimed):
        return 409
    if isinstance(error, NotAllowed):
        return 403
    return 400


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user_is_technician(request.user):
        return redirect(CONSOLE_URL)
    if user_agency(request.user) is not None:
        return redirect("ticket_list")
    return _forbidden(request, _no_role_message())


@login_required
@agency_active_required
@require_safe
def ticket_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    technician = user_is_technician(request.user)
    agency = user_agency(request.user)
    if not technician and agency is None:
        return _forbidden(request, _no_role_message())
    visible = ticket_list_for(request.user).order_by("-opened_at", "-number")
    filterset = TicketFilter(request.GET or None, queryset=visible, request=request)
    tickets = filterset.qs if not filterset.is_bound or filterset.is_valid() else visible.none()
    page = BoundedPaginator(tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page_obj": page,
        "tickets": page.object_list,
        "is_technician": technician,
        "agency": agency,
        "filtered": any(value for key, value in request.GET.items() if key != "page"),
    }
    return render(request, "tickets/list.html", context)


@login_required
@agency_active_required
@require_http_methods(["GET", "HEAD", "POST"])
@accepts_uploads
def ticket_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    agency = user_agency(request.user)
    if agency is None:
        if user_is_technician(request.user):
            return _forbidden(
                request,
                _("Technicians do not open tickets here: this form is for agency IT staff. Use the console."),
            )
        return _forbidden(request, _no_role_message())
    if request.method != "POST":
        form = TicketOpenForm(initial={"contact_phone": request.user.agency_membership.phone})
        return render(request, "tickets/new.html", {"form": form, "agency": agency})
    form = TicketOpenForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_open(
                service=data["service"],
                subject=data["subject"],
                description=data["description"],
                impact=data["impact"],
                urgency=data["urgency"],
                channel=Channel.WEB,
                requester=request.user,
                contact_phone=data["contact_phone"],
                attachments=data["attachments"],
            )
        except TicketError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Your ticket %(reference)s is open. Quote this number if you call the helpdesk.")
                % {"reference": ticket.reference},
            )
            return redirect("ticket_detail", number=ticket.number)
    return render(request, "tickets/new.html", {"form": form, "agency": agency}, status=400)


@dataclass(frozen=True)
class TimelineEntry:
    event: TicketEvent
    sentence: str
    note: str
    comment: Comment | None
    attachments: list[Attachment]


def _timeline(ticket: Ticket, user: Any, *, technician: bool, attachments: list[Attachment]) -> list[TimelineEntry]:
    """The ticket's events told as sentences, each reply with its text and the files sent with it."""
    comments = {comment.pk: comment for comment in comment_list_for(ticket=ticket, user=user)}
    files: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in attachments:
        if attachment.comment_id is not None:
            files[attachment.comment_id].append(attachment)
    entries = []
    for event in ticket_timeline(ticket=ticket, user=user):
        comment = comments.get(int((event.after or {}).get("comment_id") or 0))
        entries.append(
            TimelineEntry(
                event=event,
                sentence=event_sentence(event),
                note=event_note(event, technician=technician),
                comment=comment,
                attachments=files.get(comment.pk, []) if comment is not None else [],
            )
        )
    return entries


def _question(timeline: list[TimelineEntry]) -> str:
    """What the support team asked when they put the ticket on hold: the note of the newest move to waiting."""
    for entry in reversed(timeline):
        if (entry.event.after or {}).get("status") == Status.WAITING:
            return entry.note
    return ""


def _render_detail(
    request: AuthenticatedHttpRequest,
    ticket: Ticket,
    *,
    status: int = 200,
    error: str = "",
    comment_form: CommentForm | None = None,
    close_form: TicketActionForm | None = None,
    reopen_form: TicketReopenForm | None = None,
    cancel_form: TicketCancelForm | None = None,
) -> HttpResponse:
    user = request.user
    version = {"version": ticket.last_event_id}
    technician = user_is_technician(user)
    attachments = list(attachment_list_for(ticket=ticket, user=user))
    timeline = _timeline(ticket, user, technician=technician, attachments=attachments)
    waiting_on_you = not technician and ticket.status == Status.WAITING
    context = {
        "ticket": ticket,
        "timeline": timeline,
        # Files sent with a reply are listed with it; these came with the ticket itself.
        "attachments": [attachment for attachment in attachments if attachment.comment_id is None],
        "waiting_on_you": waiting_on_you,
        "question": _question(timeline) if waiting_on_you else "",
        "is_technician": technician,
        "console_url": CONSOLE_URL,
        "error": error,
        "now": timezone.now(),
        "can_comment": ticket.is_open or ticket.status == Status.RESOLVED,
        "can_confirm": not technician and ticket.status == Status.RESOLVED,
        "autoclose_days": settings.HELPDESK_AUTOCLOSE_WORKING_DAYS,
        "can_cancel": not technician and ticket.is_open,
        "comment_form": comment_form or CommentForm(),
        "close_form": close_form or TicketActionForm(initial=version),
        "reopen_form": reopen_form or TicketReopenForm(initial=version),
        "cancel_form": cancel_form or TicketCancelForm(initial=version),
        **({} if technician else watcher_context(ticket=ticket)),
    }
    return render(request, "tickets/detail.html", context, status=status)


@login_required
@agency_active_required
@require_safe
def ticket_detail(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _render_detail(request, _visible_ticket(request, number))


@login_required
@agency_active_required
@require_POST
@accepts_uploads
def ticket_comment_create(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    ticket = _visible_ticket(request, number)
    form = CommentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, ticket, status=400, comment_form=form)
    try:
        ticket_comment(
            ticket=ticket,
            author=request.user,
            body=form.cleaned_data["body"],
            channel=Channel.WEB,
            attachments=form.cleaned_data["attachments"],
        )
    except TicketError as error:
        ticket.refresh_from_db()
        return _render_detail(request, ticket, status=_error_status(error), error=error.message, comment_form=form)
    messages.success(request, _("Your reply has been added."))
    return redirect("ticket_detail", number=ticket.number)


def _status_action(
    request: AuthenticatedHttpRequest,
    number: int,
    *,
    form_class: type[TicketActionForm],
    form_name: str,
    service: Callable[..., Ticket],
    success_message: str,
) -> HttpResponse:
    ticket = _visible_ticket(request, number)
    form = form_class(request.POST)
    if not form.is_valid():
        invalid: dict[str, Any] = {form_name: form}
        return _render_detail(request, ticket, status=400, **invalid)
    try:
        service(
            ticket=ticket,
            actor=request.user,
            note=form.cleaned_data.get("reason", ""),
            channel=Channel.WEB,
            expected_event_id=form.cleaned_data["version"],
        )
    except TicketError as error:
        ticket.refresh_from_db()
        retry: dict[str, Any] = {form_name: form_class(initial={**form.cleaned_data, "version": ticket.last_event_id})}
        return _render_detail(request, ticket, status=_error_status(error), error=error.message, **retry)
    messages.success(request, success_message)
    return redirect("ticket_detail", number=ticket.number)


@login_required
@agency_active_required
@require_POST
def ticket_close_view(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _status_action(
        request,
        number,
        form_class=TicketActionForm,
        form_name="close_form",
        service=ticket_close,
        success_message=_("Thank you for confirming the fix. The ticket is closed."),
    )


@login_required
@agency_active_required
@require_POST
def ticket_reopen_view(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _status_action(
        request,
        number,
        form_class=TicketReopenForm,
        form_name="reopen_form",
        service=ticket_reopen,
        success_message=_("The ticket is reopened and back with the support team."),
    )


@login_required
@agency_active_required
@require_POST
def ticket_cancel_view(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _status_action(
        request,
        number,
        form_class=TicketCancelForm,
        form_name="cancel_form",
        service=ticket_cancel,
        success_message=_("The ticket is cancelled."),
    )


@login_required
@agency_active_required
@require_safe
def attachment_download(request: AuthenticatedHttpRequest, number: int, attachment_id: int) -> FileResponse:
    ticket = _visible_ticket(request, number)
    attachment = get_object_or_404(attachment_list_for(ticket=ticket, user=request.user), pk=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("This file is no longer available.")) from missing
    known_types = set(settings.HELPDESK_ATTACHMENT_TYPES.values())
    content_type = attachment.content_type if attachment.content_type in known_types else "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
