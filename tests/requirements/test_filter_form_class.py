"""The requirement filters' form class is built once; each form made from it has its own fields and reads the
options as they are now."""

from __future__ import annotations

import pytest

from needpool.requirements.choices import Dimension
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import ClassOption, Requirement

pytestmark = pytest.mark.django_db


def test_the_form_class_is_built_once_and_its_forms_share_no_field():
    one = RequirementFilter({}, queryset=Requirement.objects.none()).form
    other = RequirementFilter({"type": "nope"}, queryset=Requirement.objects.none()).form
    assert type(one) is type(other)
    assert one.fields["type"] is not other.fields["type"]
    one.fields["type"].empty_label = "一"
    assert other.fields["type"].empty_label != "一"
    assert not other.is_valid() and "type" in other.errors


def test_an_option_added_after_a_form_was_made_is_offered_by_the_next():
    first = RequirementFilter({}, queryset=Requirement.objects.none()).form
    keys = {o.key for o in first.fields["tag"].queryset}
    ClassOption.objects.create(dimension=Dimension.TAG, key="brand_new_tag", label="新标签")
    second = RequirementFilter({"tag": "brand_new_tag"}, queryset=Requirement.objects.none()).form
    assert "brand_new_tag" not in keys
    assert "brand_new_tag" in {o.key for o in second.fields["tag"].queryset}
    assert second.is_valid(), second.errors
