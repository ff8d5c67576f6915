"""Stored XSS: text people type (titles, names, notes, comments, feedback) is shown, never run, on every page.

Each payload carries a ``data-xss`` marker: if any page rendered one as markup, an element with that attribute
would exist in the DOM (whatever the Content-Security-Policy blocks afterwards), and a ``dialog`` would open
for the payloads that call ``alert``. Both are checked on every page that shows the stored text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

PAYLOADS = [
    '<img data-xss src=x onerror="alert(1)">',
    '"><svg data-xss onload=alert(2)>',
    "</script><script data-xss>alert(3)</script>",
    "' data-xss='1",
    '" data-xss="1',
    '<a data-xss href="javascript:alert(4)">点我</a>',
    "{{7*7}}<iframe data-xss srcdoc='<script>alert(5)</script>'></iframe>",
]


def _stored(users: dict[str, Any]) -> dict[str, Any]:
    from needpool.analysis.services import project_create
    from needpool.customers.services import contact_create, customer_create, interaction_create
    from needpool.requirements.services import comment_create, feedback_create, requirement_create

    pm = users["product_manager"]
    joined = " ".join(PAYLOADS)
    customer = customer_create(actor=pm, name=f"客户{PAYLOADS[0]}", industry=PAYLOADS[1], yearly_purchase=1_000_000)
    contact = contact_create(actor=pm, customer=customer, name=f"联系人{PAYLOADS[3]}", title=PAYLOADS[4])
    interaction_create(
        actor=pm,
        customer=customer,
        contact=contact,
        occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        channel="phone",
        participants=PAYLOADS[5],
        key_content=joined,
        key_asks=PAYLOADS[2],
    )
    feedback = feedback_create(actor=pm, raw_text=f"反馈{joined}", channel="ticket", customer=customer)
    requirement = requirement_create(
        actor=pm,
        title=f"需求{PAYLOADS[0]}{PAYLOADS[4]}",
        description=joined,
        background=PAYLOADS[2],
        concrete_ask=PAYLOADS[6],
        feedback=[feedback],
    )
    comment_create(actor=pm, requirement=requirement, body=f"@admin {joined}")
    project = project_create(
        actor=pm,
        name=f"项目{PAYLOADS[1]}",
        goal=joined,
        leader=pm,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    return {"customer": customer, "requirement": requirement, "feedback": feedback, "project": project}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stored_payloads_render_as_text_on_every_page(page: Any, users: dict[str, Any]) -> None:
    made = _stored(users)
    requirement, customer = made["requirement"], made["customer"]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "admin", PASSWORD)
    paths = [
        "/",
        "/notifications/",
        "/requirements/",
        f"/requirements/?q={requirement.code}",
        "/requirements/board/",
        f"/requirements/{requirement.pk}/",
        f"/requirements/{requirement.pk}/edit/",
        "/requirements/feedback/",
        f"/requirements/feedback/{made['feedback'].pk}/",
        "/customers/",
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/edit/",
        "/analysis/",
        "/analysis/ranked/",
        f"/analysis/requirements/{requirement.pk}/",
        "/analysis/projects/",
        f"/analysis/projects/{made['project'].pk}/",
        "/suggest/",
    ]
    checked = []
    for path in paths:
        response = page.goto(page.base_url + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        page.wait_for_load_state("networkidle")
        injected = page.evaluate("document.querySelectorAll('[data-xss]').length")
        assert injected == 0, f"{path} rendered a stored payload as markup"
        checked.append(path)
    assert dialogs == []
    assert len(checked) == len(paths)
    # The text itself is on the page, escaped: the detail page shows the title as typed.
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    assert PAYLOADS[0] in page.inner_text("body")
