"""Phone numbers in templates, as privacy.rules says: `{% load privacy %}`.

The order page gets its personal data ready from the view (privacy.rules.order_personal_data);
these are for the lists and the caller card, which show many numbers.
"""

from django import template

from privacy import rules

register = template.Library()


@register.filter
def list_phone(number: str) -> str:
    """A number in a list of orders: masked."""
    return rules.phone_in_list(number or "")


@register.simple_tag
def console_phone(number: str, caller: str) -> str:
    """A customer's number on the caller card: in full only if it is the caller's on the line."""
    return rules.phone_on_console(number or "", caller=caller or "")
