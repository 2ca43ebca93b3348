"""Finding the caller: by the number the switch reports, or by what the agent types.

The agent console asks these while the customer is talking, so each is one indexed query:
the phone lookup uses the index on CustomerPhone.number, the account number its unique
index, a name its prefix (``LIKE 'x%'``) index, and an address the trigram GIN index of
migration 0002 on PostgreSQL (SQLite, for trying the app, scans; its data is small).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from customers.models import Customer, CustomerPhone
from customers.validators import normalize_phone

SEARCH_LIMIT = 20
# A trigram index needs three characters to narrow anything down; shorter address
# fragments would read the whole index, so they are matched against names only.
MIN_ADDRESS_FRAGMENT = 3
_DIGITS = re.compile(r"^[\d\s\-()+（）]+$")
_ACCOUNT = re.compile(r"^\d{10,16}$")


def _card_qs() -> QuerySet[Customer]:
    return Customer.objects.select_related("service_area")


def customer_find_by_phone(*, phone: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers holding this phone number (several households may share one landline).

    `phone` may be typed in any form; an invalid number finds nobody rather than raising,
    because the switch sometimes reports withheld or odd numbers.
    """
    try:
        number = normalize_phone(phone)
    except ValidationError:
        return []
    ids = CustomerPhone.objects.filter(number=number).values("customer_id")
    return list(_card_qs().filter(pk__in=ids).order_by("-is_important", "account_number")[:limit])


def customer_search(*, query: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Customers matching a phone number, an account number (户号), a name or an address.

    Digits are tried as a phone number and as an account number; anything else as the start
    of a name, or (three characters or more) as part of an address. Important customers and
    exact matches come first.
    """
    text = (query or "").strip()
    if not text:
        return []
    if _DIGITS.match(text):
        digits = re.sub(r"\D", "", text)
        ids: list[int] = []
        try:
            number = normalize_phone(text)
        except ValidationError:
            number = ""
        if number:
            # Fetched first: an OR with a sub-select would keep PostgreSQL from combining
            # the two indexes and make it scan the whole customer table.
            ids = list(
                CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True)[
                    :limit
                ]
            )
        condition = Q(pk__in=ids)
        if _ACCOUNT.match(digits):
            condition |= Q(account_number=digits)
        return list(
            _card_qs().filter(condition).order_by("-is_important", "account_number")[:limit]
        )
    condition = Q(name__startswith=text)
    if len(text) >= MIN_ADDRESS_FRAGMENT:
        condition |= Q(address__icontains=text) | Q(name__icontains=text)
    found = list(_card_qs().filter(condition).order_by("-is_important", "account_number")[:limit])
    found.sort(key=lambda c: (c.name != text, not c.is_important))
    return found


def customer_get_for_card(*, customer_id: int) -> Customer | None:
    """The customer with what the card shows (service area, its crew, phones), or None."""
    return (
        Customer.objects.select_related("service_area", "service_area__crew")
        .prefetch_related("phones")
        .filter(pk=customer_id)
        .first()
    )
