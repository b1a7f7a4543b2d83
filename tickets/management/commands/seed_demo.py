"""`python manage.py seed_demo`: demo agencies, the service catalogue, teams, accounts and tickets.

Idempotent: every record is looked up by its natural key (code, username, requester and subject) and only created
when missing, so a second run changes nothing. Tickets are opened and moved through tickets.services, so each one has
its events. The accounts share one demo password: the command refuses to run unless
HELPDESK_DEMO is on or --force is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from escalation.models import ContactProfile, EscalationChain, EscalationStep, Layer, Rotation, RotationMember, Target
from escalation.policies import sla_defaults_ensure
from tickets import services
from tickets.models import Agency, AgencyMembership, ArabicName, Channel, Level, Service, Team, Ticket

DEMO_PASSWORD = "helpdesk-demo-2026"  # noqa: S105 (demo accounts only; seeding refuses to run in production)

AGENCIES = [
    ("moi", "Ministry of Interior", "وزارة الداخلية"),
    ("moph", "Ministry of Public Health", "وزارة الصحة العامة"),
    ("moehe", "Ministry of Education and Higher Education", "وزارة التربية والتعليم والتعليم العالي"),
    ("moci", "Ministry of Commerce and Industry", "وزارة التجارة والصناعة"),
    ("mm", "Ministry of Municipality", "وزارة البلدية"),
    ("hmc", "Hamad Medical Corporation", "مؤسسة حمد الطبية"),
]

# The hotline: an unknown caller keys their agency's code, then the PIN (the same public demo PIN for every agency).
HOTLINE_CODES = {"moi": "1001", "moph": "1002", "moehe": "1003", "moci": "1004", "mm": "1005", "hmc": "1006"}
DEMO_HOTLINE_PIN = "2468"

TEAMS = [
    ("network-ops", "Network Operations", "عمليات الشبكة"),
    ("datacentre-cloud", "Data Centre and Cloud", "مركز البيانات والسحابة"),
    ("collaboration", "Collaboration and Messaging", "التعاون والمراسلات"),
    ("identity-integration", "Identity and Integration", "الهوية والتكامل"),
]

SERVICES = [
    ("gov-network", "Government Network", "الشبكة الحكومية", "network-ops",
     "The government wide area network linking ministries and entities.",
     "شبكة الاتصال الحكومية الواسعة التي تربط الوزارات والجهات."),
    ("gov-correspondence", "Government Correspondence System", "نظام المراسلات الحكومية", "collaboration",
     "Official correspondence and messaging between government entities.",
     "المراسلات الرسمية وتبادل الرسائل بين الجهات الحكومية."),
    ("gov-data-exchange", "Government Data Exchange Platform", "منصة تبادل البيانات الحكومية",
     "identity-integration",
     "Secure data exchange and integration between government systems.",
     "تبادل البيانات والتكامل الآمن بين الأنظمة الحكومية."),
    ("gov-datacentre", "Government Data Centre", "مركز البيانات الحكومي", "datacentre-cloud",
     "Hosting, racks, power and connectivity in the government data centre.",
     "الاستضافة والخزائن والطاقة والاتصال في مركز البيانات الحكومي."),
    ("gov-contact-centre", "Government Contact Centre", "مركز الاتصال الحكومي", "collaboration",
     "The shared contact centre platform for government hotlines.",
     "منصة مركز الاتصال المشتركة للخطوط الساخنة الحكومية."),
    ("sms-gateway", "SMS Gateway", "بوابة الرسائل النصية القصيرة", "identity-integration",
     "Bulk and one-time-password text messages for government services.",
     "الرسائل النصية الجماعية ورسائل كلمات المرور لمرة واحدة للخدمات الحكومية."),
    ("tawtheeq-sso", "National Authentication (Tawtheeq SSO)", "نظام التوثيق الوطني (توثيق - الدخول الموحد)",
     "identity-integration",
     "National single sign-on for government e-services.",
     "الدخول الموحد الوطني للخدمات الحكومية الإلكترونية."),
    ("gov-cloud", "Government Cloud", "السحابة الحكومية", "datacentre-cloud",
     "Virtual machines, storage and platform services in the government cloud.",
     "الأجهزة الافتراضية والتخزين وخدمات المنصات في السحابة الحكومية."),
    ("office-365", "Office 365", "أوفيس 365", "collaboration",
     "Government mailboxes, Teams, SharePoint and OneDrive.",
     "صناديق البريد الحكومية وتيمز وشيربوينت ووان درايف."),
    ("digital-meetings", "Digital Meetings", "الاجتماعات الرقمية", "collaboration",
     "Video conferencing rooms and virtual meetings.",
     "غرف المؤتمرات المرئية والاجتماعات الافتراضية."),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    team: str = ""
    agency: str = ""
    phone: str = ""
    manager: bool = False


USERS = [
    DemoUser("manager", "Noora", "Al-Kuwari", "duty manager", team="network-ops", manager=True),
    DemoUser("tech.network", "Ahmed", "Al-Marri", "technician", team="network-ops"),
    DemoUser("tech.cloud", "Fatima", "Al-Sulaiti", "technician", team="datacentre-cloud"),
    DemoUser("tech.collab", "Khalid", "Al-Naimi", "technician", team="collaboration"),
    DemoUser("tech.identity", "Mariam", "Al-Thani", "technician", team="identity-integration"),
    DemoUser("tech.network2", "Yousef", "Al-Khulaifi", "technician", team="network-ops"),
    DemoUser("tech.cloud2", "Hessa", "Al-Misnad", "technician", team="datacentre-cloud"),
    DemoUser("tech.collab2", "Abdulla", "Al-Jaber", "technician", team="collaboration"),
    DemoUser("tech.identity2", "Noof", "Al-Attiyah", "technician", team="identity-integration"),
    DemoUser("moi.it", "Hamad", "Al-Kaabi", "agency IT staff", agency="moi", phone="+97444002001"),
    DemoUser("moph.it", "Aisha", "Al-Mohannadi", "agency IT staff", agency="moph", phone="+97444002002"),
    DemoUser("moehe.it", "Saad", "Al-Dosari", "agency IT staff", agency="moehe", phone="+97444002003"),
    DemoUser("moci.it", "Latifa", "Al-Emadi", "agency IT staff", agency="moci", phone="+97444002004"),
    DemoUser("mm.it", "Jassim", "Al-Hajri", "agency IT staff", agency="mm", phone="+97444002005"),
    DemoUser("hmc.it", "Reem", "Al-Ansari", "agency IT staff", agency="hmc", phone="+97444002006"),
]

# How Arabic pages name the demo accounts.
DEMO_ARABIC_NAMES = {
    "manager": "نورة الكواري",
    "tech.network": "أحمد المري",
    "tech.cloud": "فاطمة السليطي",
    "tech.collab": "خالد النعيمي",
    "tech.identity": "مريم آل ثاني",
    "tech.network2": "يوسف الخليفي",
    "tech.cloud2": "حصة المسند",
    "tech.collab2": "عبدالله الجابر",
    "tech.identity2": "نوف العطية",
    "moi.it": "حمد الكعبي",
    "moph.it": "عائشة المهندي",
    "moehe.it": "سعد الدوسري",
    "moci.it": "لطيفة العمادي",
    "mm.it": "جاسم الهاجري",
    "hmc.it": "ريم الأنصاري",
}

# Made-up Qatar mobile numbers and the language each person is paged in.
DEMO_CONTACTS = {
    "manager": ("+97455010000", "ar"),
    "tech.network": ("+97455010001", "ar"),
    "tech.cloud": ("+97455010002", "en"),
    "tech.collab": ("+97455010003", "ar"),
    "tech.identity": ("+97455010004", "en"),
    "tech.network2": ("+97455010005", "en"),
    "tech.cloud2": ("+97455010006", "ar"),
    "tech.collab2": ("+97455010007", "en"),
    "tech.identity2": ("+97455010008", "ar"),
}
ROTA_HANDOFF = dt.time(8, 0)
# Every team's escalation chain, short enough to watch: (target, wait for an acknowledgement, SMS, voice call).
DEMO_CHAIN = [
    (Target.ONCALL_PRIMARY, dt.timedelta(minutes=2), True, True),
    (Target.ONCALL_SECONDARY, dt.timedelta(minutes=2), True, False),
    (Target.DUTY_MANAGER, dt.timedelta(minutes=3), True, True),
]
DEMO_DUTY_MANAGER = "manager"

ROLE_PAGES = {"duty manager": "/admin/", "technician": "/console/", "agency IT staff": "/tickets/new/"}


@dataclass(frozen=True)
class DemoTicket:
    requester: str
    service: str
    subject: str
    description: str
    impact: int
    urgency: int
    opened_ago: dt.timedelta
    channel: str = Channel.WEB
    contact_phone: str = ""
    # Applied in order after opening: (minutes after opening, service, its arguments with users named by username).
    steps: list[tuple[int, Callable[..., Any], dict[str, Any]]] = field(default_factory=list)


TICKETS = [
    DemoTicket(
        "moph.it", "gov-network", "Government Network link down at the Al Wakrah health centre",
        "No connectivity to the government network since 07:40; the clinic systems are offline.",
        Level.HIGH, Level.HIGH, dt.timedelta(minutes=12), contact_phone="+97444001001",
    ),
    DemoTicket(
        "moi.it", "tawtheeq-sso", "Tawtheeq sign-in loops back to the login page",
        "Citizens signing in to the e-services portal are sent back to the login page after entering the OTP.",
        Level.HIGH, Level.MEDIUM, dt.timedelta(minutes=40),
        steps=[(6, services.ticket_acknowledge, {"actor": "tech.identity"})],
    ),
    DemoTicket(
        "moci.it", "sms-gateway", "تأخر وصول رسائل رمز التحقق عبر بوابة الرسائل النصية",
        "تصل رسائل رمز التحقق إلى المستخدمين بعد أكثر من خمس دقائق منذ صباح اليوم.",
        Level.MEDIUM, Level.HIGH, dt.timedelta(hours=3),
        steps=[
            (10, services.ticket_claim, {"technician": "tech.identity"}),
            (25, services.ticket_comment, {"author": "tech.identity",
                                    "body": "Which sender ID do the delayed messages use?"}),
            (26, services.ticket_set_status, {"actor": "tech.identity", "status": "waiting",
                                       "note": "Waiting for the sender ID from the ministry."}),
        ],
    ),
    DemoTicket(
        "moehe.it", "office-365", "Shared mailbox for the examinations unit is full",
        "The exams@ shared mailbox has reached its quota and rejects new mail.",
        Level.LOW, Level.MEDIUM, dt.timedelta(hours=26),
        steps=[
            (30, services.ticket_claim, {"technician": "tech.collab"}),
            (45, services.ticket_comment, {"author": "tech.collab", "internal": True,
                                    "body": "Archive policy not applied to this mailbox; raising the quota first."}),
        ],
    ),
    DemoTicket(
        "mm.it", "digital-meetings", "Meeting recordings are not available after the session",
        "Recordings of yesterday's council meeting do not appear in the meeting history.",
        Level.MEDIUM, Level.MEDIUM, dt.timedelta(days=2),
        steps=[
            (20, services.ticket_claim, {"technician": "tech.collab"}),
            (180, services.ticket_resolve, {"actor": "tech.collab",
                                     "note": "Recording storage re-attached; the recordings are back."}),
        ],
    ),
    DemoTicket(
        "hmc.it", "gov-correspondence", "Attachments fail to upload in the correspondence system",
        "Uploading PDF attachments larger than 5 MB fails with a timeout.",
        Level.MEDIUM, Level.MEDIUM, dt.timedelta(days=4),
        steps=[
            (15, services.ticket_claim, {"technician": "tech.collab"}),
            (240, services.ticket_resolve, {"actor": "tech.collab", "note": "Upload limit raised to 25 MB."}),
            (300, services.ticket_comment, {"author": "hmc.it", "body": "Confirmed, uploads work again. Thank you."}),
            (301, services.ticket_close, {"actor": "hmc.it"}),
        ],
    ),
    DemoTicket(
        "moi.it", "gov-cloud", "Request for two more virtual machines in the government cloud",
        "Duplicate of a request already sent by email.",
        Level.LOW, Level.LOW, dt.timedelta(days=1),
        steps=[(5, services.ticket_cancel, {"actor": "moi.it", "note": "Opened twice by mistake."})],
    ),
    DemoTicket(
        "moph.it", "gov-data-exchange", "Data exchange certificate expires next week",
        "The client certificate used for the health records exchange expires on Thursday.",
        Level.MEDIUM, Level.LOW, dt.timedelta(hours=5), channel=Channel.PHONE, contact_phone="+97444001002",
        steps=[(50, services.ticket_assign, {"actor": "manager", "assignee": "tech.identity"})],
    ),
    DemoTicket(
        "hmc.it", "gov-datacentre", "Rack power alarm in row C of the government data centre",
        "The monitoring system reports a power supply alarm on the HMC rack C-12.",
        Level.HIGH, Level.LOW, dt.timedelta(minutes=3),
    ),
]


def _user_argument(name: str) -> bool:
    return name in {"actor", "author", "technician", "assignee"}


class Command(BaseCommand):
    help = "Load demo agencies, services, teams, accounts and tickets (public password; needs HELPDESK_DEMO=1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Seed even with HELPDESK_DEMO off (never on a production database)."
        )
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help="Password for demo accounts created by this run."
        )

    def handle(self, *args: Any, force: bool, password: str, **options: Any) -> None:
        if not password:
            raise CommandError("The demo password must not be empty.")
        if not settings.HELPDESK_DEMO and not force:
            raise CommandError(
                "Refusing to load demo accounts with HELPDESK_DEMO off: their password is public. "
                "Use --force only on a throwaway database."
            )
        with transaction.atomic():
            sla_rows = self.sla_seed()
            created = self.seed(password=password)
        self.report(created=created, password=password)
        self.sla_report(created=sla_rows)

    def seed(self, *, password: str) -> dict[str, int]:
        created = {"agencies": 0, "teams": 0, "services": 0, "accounts": 0, "tickets": 0}
        agencies: dict[str, Agency] = {}
        for code, name_en, name_ar in AGENCIES:
            agencies[code], new = Agency.objects.get_or_create(
                code=code, defaults={"name_en": name_en, "name_ar": name_ar}
            )
            created["agencies"] += new
            if not agencies[code].hotline_code:
                agencies[code].hotline_code = HOTLINE_CODES[code]
                agencies[code].set_hotline_pin(DEMO_HOTLINE_PIN)
                agencies[code].save(update_fields=["hotline_code", "hotline_pin"])
        teams: dict[str, Team] = {}
        for code, name_en, name_ar in TEAMS:
            teams[code], new = Team.objects.get_or_create(code=code, defaults={"name_en": name_en, "name_ar": name_ar})
            created["teams"] += new
        services_by_code: dict[str, Service] = {}
        for code, name_en, name_ar, team, description_en, description_ar in SERVICES:
            services_by_code[code], new = Service.objects.get_or_create(
                code=code,
                defaults={
                    "name_en": name_en,
                    "name_ar": name_ar,
                    "team": teams[team],
                    "description_en": description_en,
                    "description_ar": description_ar,
                },
            )
            created["services"] += new
        users = {}
        for demo in USERS:
            users[demo.username], new = self.user_get_or_create(demo, password=password)
            created["accounts"] += new
            ArabicName.objects.get_or_create(
                user=users[demo.username], defaults={"name": DEMO_ARABIC_NAMES[demo.username]}
            )
            if demo.team:
                teams[demo.team].members.add(users[demo.username])
            if demo.agency:
                AgencyMembership.objects.get_or_create(
                    user=users[demo.username], defaults={"agency": agencies[demo.agency], "phone": demo.phone}
                )
        created.update(self.seed_oncall(teams=teams, users=users, today=timezone.localdate()))
        # Before the tickets: a ticket copies its team's chain when it opens.
        created["escalation chains"] = self.seed_chains(teams=teams, users=users)
        now = timezone.now()
        for story in TICKETS:
            requester = users[story.requester]
            if Ticket.objects.filter(requester=requester, subject=story.subject).exists():
                continue
            self.ticket_play(story, requester=requester, service=services_by_code[story.service], users=users, now=now)
            created["tickets"] += 1
        return created

    def seed_oncall(self, *, teams: dict[str, Team], users: dict, today: dt.date) -> dict[str, int]:
        """A daily primary and secondary rota for every team (its technicians in turn, the secondary in the reverse
        order, so the two layers never fall on the same person) and a contact profile for every technician."""
        created = {"rotas": 0, "contact profiles": 0}
        for code, team in teams.items():
            technicians = [users[demo.username] for demo in USERS if demo.team == code and demo.role == "technician"]
            for layer, members in ((Layer.PRIMARY, technicians), (Layer.SECONDARY, technicians[::-1])):
                if Rotation.objects.filter(team=team, layer=layer).exists():
                    continue
                rotation = Rotation.objects.create(
                    team=team,
                    layer=layer,
                    starts_on=today - dt.timedelta(days=7),
                    handoff_time=ROTA_HANDOFF,
                    length=Rotation.Length.DAILY,
                )
                RotationMember.objects.bulk_create(
                    RotationMember(rotation=rotation, user=user, position=position)
                    for position, user in enumerate(members)
                )
                created["rotas"] += 1
        for username, (mobile, language) in DEMO_CONTACTS.items():
            _profile, new = ContactProfile.objects.get_or_create(
                user=users[username], defaults={"mobile": mobile, "language": language}
            )
            created["contact profiles"] += new
        return created
    def seed_chains(self, *, teams: dict[str, Team], users: dict) -> int:
        """An escalation chain for every team that has none: the on-call primary at once, the secondary, then the
        duty manager (the `manager` account); the team's first technician leads it."""
        created = 0
        for code, team in teams.items():
            if EscalationChain.objects.filter(team=team).exists():
                continue
            lead = next(users[demo.username] for demo in USERS if demo.team == code and demo.role == "technician")
            chain = EscalationChain.objects.create(
                team=team,
                team_lead=lead,
                duty_manager=users[DEMO_DUTY_MANAGER],
                breach_repeat=dt.timedelta(minutes=30),
            )
            EscalationStep.objects.bulk_create(
                EscalationStep(chain=chain, position=position, target=target, delay=delay, by_sms=sms, by_voice=voice)
                for position, (target, delay, sms, voice) in enumerate(DEMO_CHAIN, start=1)
            )
            created += 1
        return created

    def sla_seed(self) -> int:
        """The default calendars and SLA policies (the migration makes them; this restores any deleted)."""
        return sla_defaults_ensure()

    def sla_report(self, *, created: int) -> None:
        self.stdout.write(
            f"SLA calendars and default policies are in place ({created} rows created now): P1 15 min / 4 h and "
            "P2 30 min / 8 h around the clock; P3 4 working hours / 3 working days and P4 1 / 5 working days on the "
            "government working week (Sunday-Thursday 07:00-14:00 Asia/Qatar, less Qatar's public holidays). "
            "Edit them at /admin/escalation/."
        )

    def user_get_or_create(self, demo: DemoUser, *, password: str):
        user_model = get_user_model()
        user = user_model.objects.filter(username=demo.username).first()
        if user is not None:
            return user, False
        user = user_model(
            username=demo.username,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email=f"{demo.username}@example.gov.qa",
            is_staff=demo.manager,
            is_superuser=demo.manager,
        )
        user.set_password(password)
        user.save()
        return user, True

    def ticket_play(self, demo: DemoTicket, *, requester, service: Service, users: dict, now: dt.datetime) -> None:
        opened_at = now - demo.opened_ago
        ticket = services.ticket_open(
            service=service,
            subject=demo.subject,
            description=demo.description,
            impact=demo.impact,
            urgency=demo.urgency,
            channel=demo.channel,
            requester=requester,
            contact_phone=demo.contact_phone,
            now=opened_at,
        )
        for minutes, step, arguments in demo.steps:
            resolved = {key: users[value] if _user_argument(key) else value for key, value in arguments.items()}
            step(ticket=ticket, now=opened_at + dt.timedelta(minutes=minutes), **resolved)

    def report(self, *, created: dict[str, int], password: str) -> None:
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (created now: {summary})."))
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password: {password}; accounts that already existed keep theirs):")
        self.stdout.write(f"  {'username':<15} {'role':<16} {'agency / team':<42} start at")
        team_names = {code: name_en for code, name_en, _name_ar in TEAMS}
        agency_names = {code: name_en for code, name_en, _name_ar in AGENCIES}
        for demo in USERS:
            where = agency_names.get(demo.agency) or team_names.get(demo.team, "")
            self.stdout.write(f"  {demo.username:<15} {demo.role:<16} {where:<42} {ROLE_PAGES[demo.role]}")
        self.stdout.write("Log in at /accounts/login/ (the duty manager also at /admin/).")
        codes = ", ".join(f"{code} {digits}" for code, digits in HOTLINE_CODES.items())
        self.stdout.write(f"Hotline agency codes: {codes}; PIN {DEMO_HOTLINE_PIN} (for numbers not on file).")
        self.stdout.write(
            f"On call: every team has a daily primary and secondary rota handing off at {ROTA_HANDOFF:%H:%M} Qatar "
            "time; see /oncall/."
        )
        waits = [delay for _target, delay, _sms, _voice in DEMO_CHAIN]
        self.stdout.write(
            f"Escalation chains: a P1 or P2 pages its team's on-call primary at once, the secondary "
            f"{waits[0].seconds // 60} minutes later, then the duty manager ({DEMO_DUTY_MANAGER}) after "
            f"{waits[1].seconds // 60} more, until someone acknowledges; run `python manage.py escalation_worker` "
            "beside the server (scripts/run does) to fire them. Edit them at /admin/escalation/escalationchain/."
        )
        self.stdout.write(self.style.WARNING("Demo only: this password is public; never seed a production database."))
