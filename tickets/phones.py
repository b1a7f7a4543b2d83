"""Phone numbers in one form: E.164 (`+97444123456`), whichever way a caller, a form or Twilio wrote them.

Qatar numbers may come international (`+974 4412 3456`), with the international prefix (`00974...`) or national
(`4412 3456`); `region` says which country a national number belongs to.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

# Far longer than any real number with its spaces and dashes; phonenumbers has a higher limit of its own.
MAX_INPUT_LENGTH = 40


def phone_e164(raw: str, *, region: str = "QA") -> str:
    """The number in E.164. Raises ValueError, with a message for the user, for anything that is not a valid
    number (too short, too long, letters, an unassigned range)."""
    invalid = _("Enter a valid phone number, for example +974 4412 3456.")
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        raise ValueError(invalid)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(invalid) from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError(invalid)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_match(a: str, b: str) -> bool:
    """Whether two writings are the same valid number; an invalid or empty number matches nothing."""
    try:
        return phone_e164(a) == phone_e164(b)
    except ValueError:
        return False


def phone_display(number: str, *, region: str = "QA") -> str:
    """A number grouped for reading in its international form (`+974 4412 3456`); anything that does not parse is
    returned as it is. Pages show it left to right (`dir="ltr"`), whatever the language."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
