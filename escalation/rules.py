"""The escalation rules, as pure functions of values: a ticket's chain, its SLA values, a due row and `now`.

No database and no clock here: `escalation.services` and `escalation.engine` read the rows and the ticket, ask these
functions what is due and what a due row does, and write the answer. The triggers:

- P1 and P2 start their chain when they open: step 1 pages at once (normally the on-call primary); every step waits
  its delay for an acknowledgement, repeats as often as it says, then the next step pages.
- P3 and P4 wait in the console queue and page only on a breach: a missed response target starts their chain.
- A missed response target pages the duty manager (any priority).
- 75 % of the resolution target warns the assignee (the on-call primary when nobody has the ticket); 100 % pages the
  team lead and the duty manager, and again every `breach_repeat` while the ticket stays open.
- Acknowledging, claiming, a first reply (the response target met), resolving or cancelling stops the chain.
  Reopening starts a new resolution watch. While the clock is paused no SLA trigger fires; they wait for the due
  times the clock gives when it resumes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from escalation.models.chains import Target
from escalation.models.escalations import Trigger
from escalation.models.outbox import Page
from tickets.models import OPEN_STATUSES, TicketEvent

# The SLA warning goes to whoever has the ticket; not a step target an administrator chooses.
ASSIGNEE = "assignee"
SLA_TRIGGERS = (Trigger.RESPONSE_BREACH, Trigger.RESOLUTION_WARNING, Trigger.RESOLUTION_BREACH)
_OPEN = frozenset(OPEN_STATUSES)
_ALL_CHANNELS = (Page.Channel.CONSOLE.value, Page.Channel.SMS.value, Page.Channel.VOICE.value)


@dataclass(frozen=True)
class Person:
    """A user as the snapshot and the events name them (`tickets.selectors.user_record`)."""

    id: int
    name: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Person | None:
        return cls(id=int(data["id"]), name=str(data.get("name", ""))) if data else None


@dataclass(frozen=True)
class Step:
    target: str
    delay: dt.timedelta
    channels: tuple[str, ...] = (Page.Channel.CONSOLE.value,)
    repeat: int = 0
    user: Person | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "delay": self.delay.total_seconds(),
            "channels": list(self.channels),
            "repeat": self.repeat,
            "user": self.user.as_json() if self.user else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(
            target=str(data["target"]),
            delay=dt.timedelta(seconds=float(data["delay"])),
            channels=tuple(data.get("channels") or ()),
            repeat=int(data.get("repeat") or 0),
            user=Person.from_json(data.get("user")),
        )


@dataclass(frozen=True)
class Chain:
    """A team's escalation chain as a ticket copied it."""

    steps: tuple[Step, ...]
    team_lead: Person | None = None
    duty_manager: Person | None = None
    breach_repeat: dt.timedelta = dt.timedelta(hours=1)

    def as_json(self) -> dict[str, Any]:
        return {
            "steps": [step.as_json() for step in self.steps],
            "team_lead": self.team_lead.as_json() if self.team_lead else None,
            "duty_manager": self.duty_manager.as_json() if self.duty_manager else None,
            "breach_repeat": self.breach_repeat.total_seconds(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chain:
        return cls(
            steps=tuple(Step.from_json(step) for step in data.get("steps") or ()),
            team_lead=Person.from_json(data.get("team_lead")),
            duty_manager=Person.from_json(data.get("duty_manager")),
            breach_repeat=dt.timedelta(seconds=float(data.get("breach_repeat") or 3600)),
        )


# A team without a chain of its own: the on-call primary, then the secondary, then the duty manager (none is
# configured for such a team, so the last step finds nobody and says so on the ticket).
DEFAULT_CHAIN = Chain(
    steps=(
        Step(Target.ONCALL_PRIMARY.value, dt.timedelta(minutes=5), _ALL_CHANNELS),
        Step(Target.ONCALL_SECONDARY.value, dt.timedelta(minutes=5), _ALL_CHANNELS),
        Step(Target.DUTY_MANAGER.value, dt.timedelta(minutes=5), _ALL_CHANNELS),
    )
)


@dataclass(frozen=True)
class TicketValues:
    """The ticket's fields the rules read."""

    priority: int
    status: str
    assignee_id: int | None
    acknowledged_at: dt.datetime | None
    responded_at: dt.datetime | None
    sla_paused_at: dt.datetime | None
    response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    resolution_warning_at: dt.datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN


@dataclass(frozen=True)
class Due:
    """A due row: what fires when, keyed like `EscalationDue`."""

    trigger: str
    step: int
    round: int
    generation: int
    due_at: dt.datetime

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (self.trigger, self.step, self.round, self.generation)


def pages_at_once(priority: int) -> bool:
    return priority <= 2


def chain_active(ticket: TicketValues) -> bool:
    """Whether paging goes on: the ticket is open and nobody has acknowledged it, taken it or answered it."""
    return ticket.is_open and ticket.acknowledged_at is None and ticket.responded_at is None


def chain_starts_now(ticket: TicketValues, *, chain_run: int) -> bool:
    """A P1 or P2 whose chain has not run yet starts it (when it opens, or when its priority is raised)."""
    return chain_run == 0 and pages_at_once(ticket.priority) and chain_active(ticket)


def chain_plan(chain: Chain, *, run: int, start: dt.datetime, first_step: int = 0) -> list[Due]:
    """Every page of a chain run, from `first_step` paging at `start`: a step's repeats, then the next step, each
    after the previous page's delay. Written at once, so the rows say when each page is due."""
    rows: list[Due] = []
    at = start
    for index in range(first_step, len(chain.steps)):
        step = chain.steps[index]
        for round_ in range(step.repeat + 1):
            rows.append(Due(Trigger.STEP.value, index, round_, run, at))
            at += step.delay
    return rows


def sla_due_at(trigger: str, round_: int, ticket: TicketValues, chain: Chain) -> dt.datetime | None:
    """When an SLA trigger of the current watch fires by the ticket's values now, or None when it must not: the
    ticket is finished, the clock is paused (its due times are stale until it resumes), or the target is met."""
    if not ticket.is_open or ticket.sla_paused_at is not None:
        return None
    if trigger == Trigger.RESPONSE_BREACH:
        if ticket.responded_at is not None or ticket.acknowledged_at is not None:
            return None
        return ticket.response_due_at
    if trigger == Trigger.RESOLUTION_WARNING:
        return ticket.resolution_warning_at
    if trigger == Trigger.RESOLUTION_BREACH and ticket.resolution_due_at is not None:
        return ticket.resolution_due_at + round_ * chain.breach_repeat
    return None


def sla_plan(ticket: TicketValues, chain: Chain) -> dict[tuple[str, int], dt.datetime | None]:
    """The first round of each SLA trigger of a watch and when it is due (None: not now)."""
    return {(trigger.value, 0): sla_due_at(trigger, 0, ticket, chain) for trigger in SLA_TRIGGERS}


@dataclass(frozen=True)
class Fire:
    """Page now. `targets` are resolved to people when the page fires (who is on call then)."""

    kind: str
    targets: tuple[str, ...]
    channels: tuple[str, ...]
    user: Person | None = None
    # Rows to add: the next repeat of a breach, or a whole chain run a breach starts.
    then: list[Due] = field(default_factory=list)
    starts_chain: bool = False


@dataclass(frozen=True)
class Move:
    """Not due yet: the deadline moved later (the clock resumed, the priority changed) while the row waited."""

    due_at: dt.datetime


@dataclass(frozen=True)
class Cancel:
    reason: str


Decision = Fire | Move | Cancel

_SLA_CHANNELS = (Page.Channel.CONSOLE.value, Page.Channel.SMS.value)


def decide(row: Due, ticket: TicketValues, chain: Chain, *, chain_run: int, watch: int, now: dt.datetime) -> Decision:
    """What a due row does now, given the ticket's values as they are under its lock."""
    if row.trigger == Trigger.STEP:
        if row.generation != chain_run:
            return Cancel("superseded")
        if not chain_active(ticket):
            return Cancel("acknowledged" if ticket.is_open else "finished")
        if row.step >= len(chain.steps):
            return Cancel("no such step")
        step = chain.steps[row.step]
        first_page = row.step == 0 or row.round > 0
        return Fire(
            kind=TicketEvent.Kind.PAGED if first_page else TicketEvent.Kind.ESCALATED,
            targets=(step.target,),
            channels=step.channels,
            user=step.user,
        )
    if row.generation != watch:
        return Cancel("superseded")
    due_at = sla_due_at(row.trigger, row.round, ticket, chain)
    if due_at is None:
        return Cancel("met or paused")
    if due_at > now:
        return Move(due_at)
    if row.trigger == Trigger.RESPONSE_BREACH:
        starts = chain_run == 0 and not pages_at_once(ticket.priority) and chain_active(ticket)
        return Fire(
            kind=TicketEvent.Kind.SLA_BREACHED,
            targets=(Target.DUTY_MANAGER.value,),
            channels=_SLA_CHANNELS,
            then=chain_plan(chain, run=chain_run + 1, start=due_at) if starts else [],
            starts_chain=starts,
        )
    if row.trigger == Trigger.RESOLUTION_WARNING:
        return Fire(kind=TicketEvent.Kind.SLA_WARNING, targets=(ASSIGNEE,), channels=(Page.Channel.CONSOLE.value,))
    return Fire(
        kind=TicketEvent.Kind.SLA_BREACHED,
        targets=(Target.TEAM_LEAD.value, Target.DUTY_MANAGER.value),
        channels=_SLA_CHANNELS,
        then=[breach_repeat_next(row, deadline=due_at - row.round * chain.breach_repeat, chain=chain, now=now)],
    )


def breach_repeat_next(row: Due, *, deadline: dt.datetime, chain: Chain, now: dt.datetime) -> Due:
    """The next repeat of a resolution breach page after `now`. Repeats missed while the worker was down are not
    sent in a burst: the next one keeps the cadence from the deadline."""
    elapsed = max(now - deadline, dt.timedelta(0))
    round_ = max(row.round + 1, int(elapsed / chain.breach_repeat) + 1)
    return Due(row.trigger, 0, round_, row.generation, deadline + round_ * chain.breach_repeat)


def step_label_values(chain: Chain, row: Due) -> dict[str, int]:
    """The numbers a page names: step 2 of 3, round 1 of 2 (1-based, as people count)."""
    if row.trigger != Trigger.STEP:
        return {}
    step = chain.steps[row.step] if row.step < len(chain.steps) else None
    return {
        "step": row.step + 1,
        "steps": len(chain.steps),
        "round": row.round + 1,
        "rounds": (step.repeat + 1) if step else 1,
    }
