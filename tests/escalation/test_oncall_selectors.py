"""Who is on call, read from the database: rotations per team and layer, overrides, contact profiles."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from escalation.models import ContactProfile, OnCallOverride, RotationMember
from escalation.selectors import (
    Shift,
    contact_profile_by_token,
    contact_profile_get,
    oncall_board,
    oncall_shifts,
    oncall_shifts_for_user,
    oncall_user,
    user_by_mobile,
)
from tests.factories import TeamFactory, rotation_of, technician_of

QATAR = ZoneInfo("Asia/Qatar")


def qatar(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


@pytest.fixture
def crew(team):
    """Three technicians of the team: a daily primary rota a → b → c and a weekly secondary rota c → a."""
    a = technician_of(team, username="aisha", first_name="Aisha", last_name="Al-Kuwari")
    b = technician_of(team, username="badr", first_name="Badr", last_name="Al-Mannai")
    c = technician_of(team, username="carim", first_name="Carim", last_name="Al-Sada")
    rotation_of(team, [a, b, c], layer="primary", length="daily")
    rotation_of(team, [c, a], layer="secondary", length="weekly", handoff_time=dt.time(7, 0))
    return a, b, c


@pytest.mark.django_db
def test_oncall_user_hands_off_at_the_boundary_minute(team, crew):
    a, b, c = crew
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 7, 59)) is None
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 8, 0)) == a
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 7, 59)) == a
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 8, 0)) == b
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 3, 8, 0), layer="primary") == c
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 4, 8, 0)) == a


@pytest.mark.django_db
def test_secondary_layer_has_its_own_rota(team, crew):
    a, _b, c = crew
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 12), layer="secondary") == c
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 8, 6, 59), layer="secondary") == c
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 8, 7, 0), layer="secondary") == a
    with pytest.raises(ValueError):
        oncall_user(team_id=team.pk, at=qatar(2026, 3, 2), layer="tertiary")


@pytest.mark.django_db
def test_an_override_covers_only_its_layer_and_period(team, crew):
    a, b, _c = crew
    stand_in = technician_of(team, username="dana")
    OnCallOverride.objects.create(
        team=team, layer="primary", user=stand_in, starts_at=qatar(2026, 3, 2, 12), ends_at=qatar(2026, 3, 2, 20)
    )
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 11, 59)) == b
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 12, 0)) == stand_in
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 20, 0)) == b
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 13), layer="secondary") != stand_in
    # A later override over the first wins where they overlap.
    OnCallOverride.objects.create(
        team=team, layer="primary", user=a, starts_at=qatar(2026, 3, 2, 15), ends_at=qatar(2026, 3, 2, 16)
    )
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 15, 30)) == a
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 16, 0)) == stand_in


@pytest.mark.django_db
def test_teams_do_not_share_rotas(team, crew):
    other = TeamFactory(code="cloud")
    assert oncall_user(team_id=other.pk, at=qatar(2026, 3, 2, 12)) is None
    assert oncall_shifts(team_id=other.pk, start=qatar(2026, 3, 2), end=qatar(2026, 3, 3)) == []
    outsider = technician_of(other, username="omar")
    rotation_of(other, [outsider], length="daily")
    assert oncall_user(team_id=other.pk, at=qatar(2026, 3, 2, 12)) == outsider
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 12)) == crew[1]


@pytest.mark.django_db
def test_a_rotation_without_members_leaves_the_layer_to_the_older_one(team, crew):
    rotation_of(team, [], layer="primary", length="daily", starts_on=dt.date(2026, 3, 2))
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 12)) == crew[1]


@pytest.mark.django_db
def test_oncall_shifts_lists_both_layers_with_real_bounds_and_overrides(team, crew):
    a, b, c = crew
    stand_in = technician_of(team, username="dana")
    OnCallOverride.objects.create(
        team=team, layer="primary", user=stand_in, starts_at=qatar(2026, 3, 2, 12), ends_at=qatar(2026, 3, 2, 14)
    )
    shifts = oncall_shifts(team_id=team.pk, start=qatar(2026, 3, 2, 10), end=qatar(2026, 3, 3, 9))
    assert all(isinstance(shift, Shift) for shift in shifts)
    assert [(shift.user, shift.layer, shift.start, shift.end, shift.override) for shift in shifts] == [
        (c, "secondary", qatar(2026, 3, 1, 7), qatar(2026, 3, 8, 7), False),
        (b, "primary", qatar(2026, 3, 2, 8), qatar(2026, 3, 2, 12), False),
        (stand_in, "primary", qatar(2026, 3, 2, 12), qatar(2026, 3, 2, 14), True),
        (b, "primary", qatar(2026, 3, 2, 14), qatar(2026, 3, 3, 8), False),
        (c, "primary", qatar(2026, 3, 3, 8), qatar(2026, 3, 4, 8), False),
    ]
    assert shifts[0].layer_label == "Secondary"


@pytest.mark.django_db
def test_oncall_user_reads_a_bounded_number_of_rows(team, crew, django_assert_max_num_queries):
    for day in range(1, 20):
        OnCallOverride.objects.create(
            team=team, layer="primary", user=crew[2], starts_at=qatar(2026, 3, day, 1), ends_at=qatar(2026, 3, day, 2)
        )
    with django_assert_max_num_queries(4):
        assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 10, 1, 30)) == crew[2]


@pytest.mark.django_db
def test_contact_profile_get(technician):
    assert contact_profile_get(user=technician) is None
    profile = ContactProfile.objects.create(user=technician, mobile="+97455123456")
    assert contact_profile_get(user=technician) == profile
    assert technician.contact_profile.language == "ar"
    assert profile.page_by_sms and profile.page_by_voice
    assert len(profile.ics_token) >= 40


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["+97455123456", "0097455123456", "55123456", "+974 5512 3456", "5512-3456"])
def test_user_by_mobile_matches_any_writing_of_the_number(technician, written):
    ContactProfile.objects.create(user=technician, mobile="+97455123456")
    assert user_by_mobile(phone=written) == technician


@pytest.mark.django_db
def test_user_by_mobile_finds_nobody_for_unknown_invalid_or_inactive(technician, other_technician):
    ContactProfile.objects.create(user=technician, mobile="+97455123456")
    ContactProfile.objects.create(user=other_technician, mobile="")
    assert user_by_mobile(phone="+97455999999") is None
    assert user_by_mobile(phone="") is None
    assert user_by_mobile(phone="anonymous") is None
    technician.is_active = False
    technician.save()
    assert user_by_mobile(phone="55123456") is None


@pytest.mark.django_db
def test_a_caller_by_mobile_and_a_calendar_by_token_are_each_found_with_their_user_in_one_question(
    technician, django_assert_num_queries
):
    """The hotline looks up every caller by number, the calendar feed every request by token: each reads the
    profile with its user at once."""
    profile = ContactProfile.objects.create(user=technician, mobile="+97455123456")
    with django_assert_num_queries(1):
        assert user_by_mobile(phone="55123456").username == technician.username
    with django_assert_num_queries(1):
        assert contact_profile_by_token(token=profile.ics_token).user.username == technician.username


@pytest.mark.django_db
def test_the_board_at_a_handoff_shows_the_incoming_primary_and_two_weeks_of_shifts(team, crew):
    a, b, c = crew
    handoff = qatar(2026, 3, 2, 8, 0)
    (board,) = oncall_board(at=handoff)
    primary, secondary = board.layers
    assert (primary.layer, secondary.layer) == ("primary", "secondary")
    assert primary.now.user == b  # Aisha's shift ended at 08:00; Badr's began
    assert (primary.now.start, primary.now.end) == (handoff, handoff + dt.timedelta(days=1))
    assert [shift.user for shift in primary.shifts] == [b, c, a] * 4 + [b, c]  # 14 days of daily shifts
    (board,) = oncall_board(at=handoff - dt.timedelta(minutes=1))
    assert board.layers[0].now.user == a


@pytest.mark.django_db
def test_oncall_user_names_an_unknown_layer(team):
    with pytest.raises(ValueError, match="Unknown on-call layer 'tertiary'."):
        oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 8, 0), layer="tertiary")


@pytest.mark.django_db
def test_members_take_their_shifts_by_position_whatever_order_they_were_added_in(team, crew):
    a, b, c = crew
    # The administrator reorders the primary rota to c -> b -> a.
    for user, position in ((a, 2), (b, 1), (c, 0)):
        RotationMember.objects.filter(rotation__layer="primary", user=user).update(position=position)
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 8, 0)) == c
    assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 2, 8, 0)) == b


@pytest.mark.django_db
def test_the_board_reads_every_rota_in_a_fixed_number_of_questions(team, crew, django_assert_num_queries):
    """The teams, their rotations, all the rotations' members at once, the overrides and the people: five questions
    however many teams and rotas there are."""
    a, b, c = crew
    rotation_of(team, [c, b, a], layer="primary", length="daily", starts_on=dt.date(2026, 3, 10))
    cloud = TeamFactory(code="cloud")
    rotation_of(cloud, [technician_of(cloud, username="omar")], length="daily")
    with django_assert_num_queries(5):
        board = oncall_board(at=qatar(2026, 3, 2, 12))
    assert [(team_on_call.team.code, team_on_call.layers[0].now.user.username) for team_on_call in board] == [
        ("network-ops", "badr"),
        ("cloud", "omar"),
    ]


@pytest.mark.django_db
def test_members_of_one_position_take_turns_in_the_order_they_were_added_even_after_one_is_replaced(team):
    """The rota form leaves each new member at position 0: the rota then runs in the order they were added, as the
    form lists them, and someone put in a member's place takes that place."""
    a, b, c, d = (technician_of(team, username=name) for name in ("aisha", "badr", "carim", "dana"))
    rotation = rotation_of(team, [], length="daily")
    for user in (a, b, c):
        RotationMember.objects.create(rotation=rotation, user=user)
    first = RotationMember.objects.get(rotation=rotation, user=a)
    first.user = d  # Dana takes Aisha's place in the rota.
    first.save()
    assert [oncall_user(team_id=team.pk, at=qatar(2026, 3, day, 12)) for day in (1, 2, 3, 4)] == [d, b, c, d]


@pytest.mark.django_db
def test_the_shift_under_way_ends_where_a_later_override_takes_over_beyond_the_hour_asked_about(team):
    """A daily rota alone: asked about 10:00 to 11:00, the shift Badr began at 08:00 ends at 12:00, when Dana's
    override begins, not at the next morning's handoff."""
    a = technician_of(team, username="aisha")
    b = technician_of(team, username="badr")
    d = technician_of(team, username="dana")
    rotation_of(team, [a, b], length="daily")
    OnCallOverride.objects.create(
        team=team, layer="primary", user=d, starts_at=qatar(2026, 3, 2, 12), ends_at=qatar(2026, 3, 2, 14)
    )
    shifts = oncall_shifts(team_id=team.pk, start=qatar(2026, 3, 2, 10), end=qatar(2026, 3, 2, 11))
    assert [(shift.user, shift.start, shift.end) for shift in shifts] == [
        (b, qatar(2026, 3, 2, 8), qatar(2026, 3, 2, 12))
    ]


@pytest.mark.django_db
def test_a_technician_covering_a_team_whose_rota_they_are_not_on_has_that_cover_among_their_shifts(team, crew):
    a, _b, _c = crew
    cloud = TeamFactory(code="cloud")
    rotation_of(cloud, [technician_of(cloud, username="omar")], length="daily")
    OnCallOverride.objects.create(
        team=cloud, layer="primary", user=a, starts_at=qatar(2026, 3, 2, 12), ends_at=qatar(2026, 3, 2, 14)
    )
    mine = oncall_shifts_for_user(user=a, start=qatar(2026, 3, 2), end=qatar(2026, 3, 3))
    assert [(team.code, shift.layer, shift.start, shift.end, shift.override) for team, shift in mine] == [
        ("network-ops", "primary", qatar(2026, 3, 1, 8), qatar(2026, 3, 2, 8), False),
        ("cloud", "primary", qatar(2026, 3, 2, 12), qatar(2026, 3, 2, 14), True),
    ]


@pytest.mark.django_db
def test_asking_who_holds_a_layer_reads_the_person_only_when_someone_does(team, crew, django_assert_num_queries):
    """The layer's rotations, their members and its overrides; then the holder, if there is one."""
    with django_assert_num_queries(3):
        assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 7, 59)) is None
    with django_assert_num_queries(4):
        assert oncall_user(team_id=team.pk, at=qatar(2026, 3, 1, 8, 0)) == crew[0]
