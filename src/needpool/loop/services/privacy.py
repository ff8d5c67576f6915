"""What one customer may read about a requirement others asked for too: never another customer's name.

A requirement is often asked for by several customers, and its title, description or a status note written
by staff may name one of them. Text that leaves for a customer (a mail, a survey page, the public changelog)
goes through ``scrub_customers``, which replaces the names of the requirement's customers by “客户”, except
the reader's own.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from needpool.customers.models import Customer

MIN_NAME_LENGTH = 2


def requirement_customer_names(requirement_id: int | None, *, keep_customer_id: int | None = None) -> list[str]:
    """Names of the customers behind the requirement's feedback (longest first), without the kept one."""
    if requirement_id is None:
        return []
    rows = Customer.objects.filter(feedback__requirement_id=requirement_id).values_list("pk", "name").distinct()
    names = {
        name.strip() for pk, name in rows if pk != keep_customer_id and name and len(name.strip()) >= MIN_NAME_LENGTH
    }
    return sorted(names, key=len, reverse=True)


def scrub_names(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, _("客户"))
    return text


def scrub_customers(text: str, requirement_id: int | None, *, keep_customer_id: int | None = None) -> str:
    return scrub_names(text, requirement_customer_names(requirement_id, keep_customer_id=keep_customer_id))
