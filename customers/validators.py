"""Validation of what agents type and integration clients send.

Every function raises django.core.exceptions.ValidationError with a Chinese-first,
translatable message, so forms and the API show one clear message per field.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumbers import shortnumberinfo

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
_ACCOUNT_PATTERN = re.compile(r"^\d{10,16}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def normalize_phone(raw: str) -> str:
    """Return the number as stored and searched: digits only, national form.

    Mobiles become 11 digits, landlines keep their leading 0 and area code
    (010-12345678 -> 01012345678), short service numbers stay as typed (95598).
    Raises ValidationError for anything that is not a Chinese number a caller could have.
    """
    value = _PHONE_NOISE.sub("", (raw or "").strip())
    if not value:
        raise ValidationError(_("Enter the caller's phone number."), code="required")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value.isdigit():
        raise ValidationError(
            _("A phone number may contain only digits, spaces and dashes."), code="invalid"
        )
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a valid phone number."), code="invalid") from None
    if phonenumbers.is_valid_number(parsed):
        national = str(parsed.national_number)
        # Landlines are dialled with their trunk prefix 0; mobiles are not.
        if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE:
            return national
        return "0" + national
    if len(value) <= 6 and shortnumberinfo.is_valid_short_number(parsed):
        return value
    if len(value) == 11 and value.startswith("1"):
        raise ValidationError(
            _("A mobile number has 11 digits and starts with 13–19."), code="invalid"
        )
    raise ValidationError(
        _(
            "This is not a valid phone number: enter an 11-digit mobile number, "
            "a landline with its area code (e.g. 010-12345678) or a service number such as 95598."
        ),
        code="invalid",
    )


def validate_phone(value: str) -> None:
    normalize_phone(value)


def validate_resident_id(value: str) -> None:
    """Check an 18-character resident ID number (GB 11643-1999) with its check digit."""
    id_number = (value or "").strip().upper()
    if not _ID_PATTERN.match(id_number):
        raise ValidationError(
            _("A resident ID number has 18 characters: 17 digits and a final digit or X."),
            code="invalid",
        )
    total = sum(
        int(digit) * weight for digit, weight in zip(id_number[:17], _ID_WEIGHTS, strict=True)
    )
    if _ID_CHECK[total % 11] != id_number[17]:
        raise ValidationError(
            _("The resident ID number's check digit is wrong; please read it again."),
            code="checksum",
        )
    month, day = int(id_number[10:12]), int(id_number[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValidationError(
            _("The resident ID number holds an impossible date of birth."), code="invalid"
        )


def resident_id_check_digit(first17: str) -> str:
    """The check character for 17 digits (used by demo data and tests)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def mask_resident_id(value: str) -> str:
    """The ID number as everyone but an explicit, logged reveal shows it: the six digits of the
    region and the last four (the check character among them), 110105********1234.

    The 15-digit numbers of the first generation keep the same ends (110105*****1234). Anything
    shorter is not an ID number anyone could read back: every character is hidden.
    """
    value = (value or "").strip()
    if len(value) < 11:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """A phone number as lists, exports and other people's orders show it: 138****5678.

    Stored numbers are normalized (normalize_phone): an 11-digit mobile or a landline with its
    area code keeps its first three and last four digits (010****0000); a local number of 7 to
    10 digits keeps only its last four. Short service numbers (95598, 110: six digits or fewer)
    belong to an organisation, not a person, and are shown whole.
    """
    value = (value or "").strip()
    if len(value) <= 6:
        return value
    if len(value) < 11:
        return "*" * (len(value) - 4) + value[-4:]
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def validate_account_number(value: str) -> None:
    """户号: 10 to 16 digits, as printed on the customer's bill."""
    if not _ACCOUNT_PATTERN.match((value or "").strip()):
        raise ValidationError(
            _("An account number (户号) has 10 to 16 digits, as printed on the bill."),
            code="invalid",
        )
