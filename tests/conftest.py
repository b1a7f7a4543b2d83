"""Fixtures shared by every test: the outside world is replaced, the database and channel layer are real."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.module_loading import import_string

from hotline.backends import LocmemBackend
from tests.factories import AgencyFactory, ServiceFactory, TeamFactory, staff_of, technician_of
from tickets.models import Level

REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"
# Set by scripts/mutate, which keeps one test database for all its runs (--reuse-db).
MUTATION_RUN = os.environ.get("HELPDESK_MUTATION_RUN") == "1"


def _commits(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a mutation run, leave out the tests that commit: they end by emptying every table, the rows the migrations
    wrote included, which the next run on the kept database would miss."""
    if not MUTATION_RUN:
        return
    committing = [item for item in items if _commits(item)]
    if committing:
        config.hook.pytest_deselected(items=committing)
        items[:] = [item for item in items if not _commits(item)]


def shared_database_url() -> str:
    """DATABASE_URL with the database name of the pytest test database, for a server or worker process that must see
    the test's committed data."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


@pytest.fixture
def require_redis_layer():
    """For tests that must run on the real Redis channel layer: they fail under HELPDESK_REQUIRE_SERVICES=1 and
    skip elsewhere when REDIS_URL is not set."""
    backend = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    if not issubclass(backend, RedisPubSubChannelLayer):
        if REQUIRE_SERVICES:
            pytest.fail("REDIS_URL is required for this test (HELPDESK_REQUIRE_SERVICES=1)")
        pytest.skip("REDIS_URL is not set")


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in Arabic leaves Arabic active in the thread (the locale
    middleware activates a language and nothing deactivates it), and the next test's messages would come out in it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _test_settings(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The manifest storage used when DEBUG is off needs collectstatic; pages under test link files by plain name.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # With REDIS_URL, sessions are cached (cached_db); here in memory, whose expiry follows time-machine's clock.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Test accounts need no slow password hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages and SMS stay in memory (LocmemBackend.sent); nothing leaves the machine.
    settings.HELPDESK_PHONE_BACKEND = "hotline.backends.LocmemBackend"
    LocmemBackend.reset()


@pytest.fixture
def team(db):
    return TeamFactory(code="network-ops", name_en="Network Operations", name_ar="عمليات الشبكة")


@pytest.fixture
def service(team):
    return ServiceFactory(code="gov-network", name_en="Government Network", name_ar="الشبكة الحكومية", team=team)


@pytest.fixture
def agency(db):
    return AgencyFactory(code="moph", name_en="Ministry of Public Health", name_ar="وزارة الصحة العامة")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(code="moci", name_en="Ministry of Commerce", name_ar="وزارة التجارة والصناعة")


@pytest.fixture
def staff(agency):
    return staff_of(agency, username="staff")


@pytest.fixture
def other_staff(other_agency):
    return staff_of(other_agency, username="other-staff")


@pytest.fixture
def technician(team):
    return technician_of(team, username="tech")


@pytest.fixture
def other_technician(team):
    return technician_of(team, username="tech2")


@pytest.fixture
def make_ticket(service, staff):
    """Open a ticket through the service, as a user would."""
    from tickets.services import ticket_open

    def make(**kwargs):
        values = {
            "service": service,
            "requester": staff,
            "subject": "Network down in building 3",
            "description": "No connectivity since 08:00.",
            "impact": Level.MEDIUM,
            "urgency": Level.MEDIUM,
        }
        values.update(kwargs)
        return ticket_open(**values)

    return make
