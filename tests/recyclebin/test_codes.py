"""A deleted requirement's code stays taken: creating one with that code is refused with a message."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from needpool.requirements.services import requirement_create
from needpool.requirements.services.recycle import requirement_delete

pytestmark = pytest.mark.django_db


def test_an_explicit_code_of_a_deleted_requirement_is_refused(users: dict[str, Any]) -> None:
    pm = users["product_manager"]
    first = requirement_create(actor=pm, title="误录的需求", submitted_at=timezone.now())
    requirement_delete(actor=pm, requirement=first)
    with pytest.raises(ValidationError, match="已存在"):
        requirement_create(actor=pm, title="同编号", code=first.code, submitted_at=timezone.now())
