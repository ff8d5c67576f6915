"""Who may drag a card on the board is the one rule of permissions.can_transition_requirement."""

import re

from django.urls import reverse

from needpool.requirements.services import requirement_create


def _movable_ids(client) -> set[int]:
    html = client.get(reverse("requirements:board")).content.decode()
    return {int(pk) for pk in re.findall(r'data-id="(\d+)"[^>]*data-transition-url=', html)}


def test_a_sales_rep_may_drag_only_the_cards_they_own(client, users, customer, requirement):
    theirs = requirement  # created, and so owned, by the sales rep
    others = requirement_create(actor=users["product_manager"], customer=customer, title="别人的需求")
    client.force_login(users["sales"])
    assert _movable_ids(client) == {theirs.pk}
    client.force_login(users["manager"])
    assert _movable_ids(client) == {theirs.pk, others.pk}
    client.force_login(users["viewer"])
    assert _movable_ids(client) == set()
