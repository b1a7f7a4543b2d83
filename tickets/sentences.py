"""What ticket events say to people, in the active language: one sentence per event kind for the agency's timeline,
the console's ticket panel and the hotline's spoken read-back, and the labels of the choices the console shows.

To give a new event kind its sentence: add the kind to `TicketEvent.Kind`, then one entry to `SENTENCES` below,
either `_says(gettext_lazy("%(actor)s ..."))` when the sentence names only the actor, or a function
`(event, actor) -> str` that reads what it needs from `event.before` and `event.after`. A kind without an entry is
told by the generic "<actor>: <kind label>." sentence. Every msgid needs its Arabic msgstr in the catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Choices
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from escalation.models import Target, Trigger
from tickets.models import Channel, Priority, Status, TicketEvent
from tickets.selectors import user_display_name

# One event and its actor's name as the sentence will show it.
Sentence = Callable[[TicketEvent, str], str]


def choice_label(choices: type[Choices], value: Any) -> str:
    """The label of `value` in the active language; the raw value when it is not (or no longer) a choice."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def actor_name(event: TicketEvent) -> str:
    """Who made the change: the user's name, else who the channel says it was."""
    if event.actor is not None:
        return user_display_name(event.actor)
    if event.channel == Channel.PHONE:
        return _("A caller")
    if event.channel == Channel.SMS:
        return _("An SMS sender")
    return _("The helpdesk")


def _says(text: Promise) -> Sentence:
    """A sentence that names only the actor."""

    def sentence(event: TicketEvent, actor: str) -> str:
        return str(text) % {"actor": actor}

    return sentence


def _opened(event: TicketEvent, actor: str) -> str:
    names = {"actor": actor, "channel": choice_label(Channel, event.channel)}
    requester = (event.after or {}).get("requester")
    if requester:
        # A technician opened it for a caller or a visitor.
        return _("%(actor)s opened the ticket for %(requester)s via %(channel)s.") % {
            **names,
            "requester": requester.get("name", ""),
        }
    return _("%(actor)s opened the ticket via %(channel)s.") % names


def _commented(event: TicketEvent, actor: str) -> str:
    after = event.after or {}
    if after.get("internal"):
        sentence = _("%(actor)s added an internal note.") % {"actor": actor}
    else:
        sentence = _("%(actor)s wrote a reply.") % {"actor": actor}
    if after.get("status") == Status.IN_PROGRESS:
        resumed = _("The ticket is back in progress.")
        sentence = f"{sentence} {resumed}"
    return sentence


def _assigned(event: TicketEvent, actor: str) -> str:
    assignee = (event.after or {}).get("assignee")
    if not assignee:
        return _("%(actor)s returned the ticket to the queue.") % {"actor": actor}
    if event.actor is not None and assignee.get("id") == event.actor.pk:
        return _("%(actor)s took the ticket.") % {"actor": actor}
    return _("%(actor)s assigned the ticket to %(assignee)s.") % {"actor": actor, "assignee": assignee.get("name", "")}


def _status_changed(event: TicketEvent, actor: str) -> str:
    return _("%(actor)s changed the status from %(old)s to %(new)s.") % {
        "actor": actor,
        "old": choice_label(Status, (event.before or {}).get("status")),
        "new": choice_label(Status, (event.after or {}).get("status")),
    }


def _priority_changed(event: TicketEvent, actor: str) -> str:
    return _("%(actor)s changed the priority from %(old)s to %(new)s.") % {
        "actor": actor,
        "old": choice_label(Priority, (event.before or {}).get("priority")),
        "new": choice_label(Priority, (event.after or {}).get("priority")),
    }


def _listed(items: list[str]) -> str:
    comma = "، " if (get_language() or "").startswith("ar") else ", "
    return comma.join(items)


def page_step_label(details: dict[str, Any]) -> str:
    """Which page of the chain this was ("step 2 of 3"), or which SLA trigger paged."""
    if details.get("trigger") == Trigger.STEP:
        label = _("step %(step)s of %(steps)s") % details
        if int(details.get("rounds") or 1) > 1:
            label = _("%(label)s, page %(round)s of %(rounds)s") % {**details, "label": label}
        return label
    return choice_label(Trigger, details.get("trigger"))


def _roles(details: dict[str, Any]) -> str:
    labels = {**{str(value): str(label) for value, label in Target.choices}, "assignee": _("the assignee")}
    return _listed([labels.get(role, role) for role in details.get("roles") or []])


def _page(event: TicketEvent, actor: str, text: Promise) -> str:
    """A page told with whom it reached; a page that found nobody (nobody on call, no duty manager) says so."""
    details = event.after or {}
    names = {
        "actor": actor,
        "step": page_step_label(details),
        "targets": _listed([str(person.get("name", "")) for person in details.get("targets") or []]),
    }
    if not details.get("targets"):
        return _("%(actor)s found nobody to page (%(step)s: %(roles)s).") % {**names, "roles": _roles(details)}
    return str(text) % names


def _paged(event: TicketEvent, actor: str) -> str:
    return _page(event, actor, gettext_lazy("%(actor)s paged %(targets)s (%(step)s)."))


def _escalated(event: TicketEvent, actor: str) -> str:
    if event.actor is not None:
        return _page(event, actor, gettext_lazy("%(actor)s escalated the ticket: %(targets)s paged (%(step)s)."))
    return _page(
        event, actor, gettext_lazy("Nobody acknowledged: %(actor)s escalated to %(targets)s (%(step)s).")
    )


def _sla_warning(event: TicketEvent, actor: str) -> str:
    return _page(event, actor, gettext_lazy("75%% of the resolution time is used: %(actor)s warned %(targets)s."))


def _sla_breached(event: TicketEvent, actor: str) -> str:
    if (event.after or {}).get("trigger") == Trigger.RESPONSE_BREACH:
        return _page(event, actor, gettext_lazy("The response target was missed: %(actor)s paged %(targets)s."))
    return _page(event, actor, gettext_lazy("The resolution target was missed: %(actor)s paged %(targets)s."))


def _closed(event: TicketEvent, actor: str) -> str:
    if "unanswered_working_days" in (event.after or {}):
        return _("The ticket closed itself: the fix was not answered in time.")
    return _("%(actor)s confirmed the fix and closed the ticket.") % {"actor": actor}


# How a page left (escalation.models.Page.Channel; tickets does not import the escalation app).
_PAGE_CHANNELS: dict[str, Promise] = {"sms": gettext_lazy("SMS"), "voice": gettext_lazy("Voice call")}
_PAGE_OUTCOMES: dict[str, Promise] = {
    "sent": gettext_lazy("Page by %(channel)s to %(recipient)s sent (attempt %(attempt)s)."),
    "retry": gettext_lazy("Page by %(channel)s to %(recipient)s failed (attempt %(attempt)s), will retry: %(error)s"),
    "failed": gettext_lazy("Page by %(channel)s to %(recipient)s failed for good (attempt %(attempt)s): %(error)s"),
}


def _page_attempt(event: TicketEvent, actor: str) -> str:
    """One attempt to deliver a page (the details come from escalation.outbox)."""
    after = event.after or {}
    channel = after.get("channel", "")
    text = _PAGE_OUTCOMES.get(after.get("outcome", ""), _PAGE_OUTCOMES["failed"])
    return str(text) % {
        "channel": str(_PAGE_CHANNELS.get(channel, channel)),
        "recipient": (after.get("recipient") or {}).get("name") or after.get("to", ""),
        "attempt": after.get("attempt"),
        "error": after.get("error", ""),
    }


SENTENCES: dict[str, Sentence] = {
    TicketEvent.Kind.OPENED: _opened,
    TicketEvent.Kind.COMMENTED: _commented,
    TicketEvent.Kind.ACKNOWLEDGED: _says(gettext_lazy("%(actor)s acknowledged the ticket.")),
    TicketEvent.Kind.ASSIGNED: _assigned,
    TicketEvent.Kind.STATUS_CHANGED: _status_changed,
    TicketEvent.Kind.PRIORITY_CHANGED: _priority_changed,
    TicketEvent.Kind.RESOLVED: _says(gettext_lazy("%(actor)s marked the ticket as resolved.")),
    TicketEvent.Kind.CLOSED: _closed,
    TicketEvent.Kind.REOPENED: _says(gettext_lazy("%(actor)s reopened the ticket.")),
    TicketEvent.Kind.CANCELLED: _says(gettext_lazy("%(actor)s cancelled the ticket.")),
    TicketEvent.Kind.PAGED: _paged,
    TicketEvent.Kind.ESCALATED: _escalated,
    TicketEvent.Kind.SLA_WARNING: _sla_warning,
    TicketEvent.Kind.SLA_BREACHED: _sla_breached,
    TicketEvent.Kind.PAGE_ATTEMPT: _page_attempt,
}


def event_sentence(event: TicketEvent) -> str:
    """One event told as a sentence in the active language."""
    actor = actor_name(event)
    sentence = SENTENCES.get(event.kind)
    if sentence is None:
        return _("%(actor)s: %(change)s.") % {"actor": actor, "change": choice_label(TicketEvent.Kind, event.kind)}
    return sentence(event, actor)


def choice_labels() -> dict[str, dict[str, str]]:
    """The labels the console shows for statuses, priorities, channels, event kinds and escalation triggers, in the
    active language, keyed by the value as it appears in the console's JSON."""
    choices: dict[str, type[Choices]] = {
        "status": Status,
        "priority": Priority,
        "channel": Channel,
        "kind": TicketEvent.Kind,
        "trigger": Trigger,
    }
    return {name: {str(value): str(label) for value, label in kind.choices} for name, kind in choices.items()}
