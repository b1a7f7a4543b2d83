"""Phone numbers normalised to E.164 however they are written, and refused when they are not numbers."""

from __future__ import annotations

import pytest
from django.utils import translation

from tickets.phones import phone_e164, phones_match


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+97444123456", "+97444123456"),
        ("0097444123456", "+97444123456"),
        ("44123456", "+97444123456"),
        ("4412 3456", "+97444123456"),
        (" +974 4412-3456 ", "+97444123456"),
        ("(+974) 5512 3456", "+97455123456"),
        ("55123456", "+97455123456"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_every_writing_gives_the_e164_number(written, e164):
    assert phone_e164(written) == e164


def test_a_national_number_belongs_to_the_region_given():
    assert phone_e164("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize(
    "written",
    ["", "   ", "123", "4412345", "441234567", "+97412345678", "abcdefgh", "+974 4412 3456 ext", "9" * 41, "anonymous"],
)
def test_what_is_not_a_valid_number_is_refused(written):
    with translation.override("en"), pytest.raises(ValueError, match="valid phone number"):
        phone_e164(written)


def test_the_refusal_is_in_arabic_for_arabic_pages():
    with translation.override("ar"), pytest.raises(ValueError, match="رقم هاتف صحيح"):
        phone_e164("123")


def test_phones_match_across_formats_and_never_on_invalid_numbers():
    assert phones_match("+97444123456", "0097444123456")
    assert phones_match("4412 3456", "+974 4412 3456")
    assert not phones_match("+97444123456", "+97444123457")
    assert not phones_match("", "")
    assert not phones_match("123", "123")
