"""The escalation app's models, one concept per module: calendars and SLA policies, on-call schedules and contact
profiles, escalation chains, the worker's due rows and the page outbox."""
from __future__ import annotations

# Escalation chains, and the worker's state per ticket and per due action.
from escalation.models.chains import EscalationChain as EscalationChain
from escalation.models.chains import EscalationStep as EscalationStep
from escalation.models.chains import Target as Target
from escalation.models.escalations import DueState as DueState
from escalation.models.escalations import EscalationDue as EscalationDue
from escalation.models.escalations import TicketEscalation as TicketEscalation
from escalation.models.escalations import Trigger as Trigger

# On-call schedules and contact profiles.
from escalation.models.oncall import ContactProfile as ContactProfile
from escalation.models.oncall import Layer as Layer
from escalation.models.oncall import OnCallOverride as OnCallOverride
from escalation.models.oncall import Rotation as Rotation
from escalation.models.oncall import RotationMember as RotationMember

# The page outbox and the worker heartbeat.
from escalation.models.outbox import Page as Page
from escalation.models.outbox import WorkerHeartbeat as WorkerHeartbeat
