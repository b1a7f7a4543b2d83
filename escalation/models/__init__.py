"""The escalation app's models, one concept per module: calendars and SLA policies, on-call schedules and contact
profiles, escalation chains, the worker's due rows and the page outbox."""
from __future__ import annotations

# On-call schedules and contact profiles.
from escalation.models.oncall import ContactProfile as ContactProfile
from escalation.models.oncall import Layer as Layer
from escalation.models.oncall import OnCallOverride as OnCallOverride
from escalation.models.oncall import Rotation as Rotation
from escalation.models.oncall import RotationMember as RotationMember
