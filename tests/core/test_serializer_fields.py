"""Serializer fields are built from the model once per class and copied for each serializer: every serializer
of the product gives the fields ``ModelSerializer`` would build, and no instance shares a field with another."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from needpool.core.validation import _FIELD_PROTOTYPES, BoundedModelSerializer


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _product_serializers() -> list[type[BoundedModelSerializer]]:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every API module, and so every serializer
    return [cls for cls in _all_subclasses(BoundedModelSerializer) if cls.__module__.startswith("needpool.")]


def test_there_are_serializers_to_check():
    assert len(_product_serializers()) >= 20


@pytest.mark.django_db
@pytest.mark.parametrize("cls", _product_serializers(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_the_fields_are_those_the_model_serializer_builds(cls: Any, rf, users):
    request = rf.get("/")
    request.user = users["manager"]
    context = {"request": request}
    _FIELD_PROTOTYPES.pop(cls, None)
    built = serializers.ModelSerializer.get_fields(cls(context=context))
    first, second = cls(context=context).get_fields(), cls(context=context).get_fields()
    assert cls in _FIELD_PROTOTYPES  # built once, then copied
    assert list(first) == list(second)
    assert set(built) <= set(first)  # a subclass may add fields of its own in its get_fields
    for name, field in built.items():
        assert repr(first[name]) == repr(field), name
        assert first[name] is not second[name], name


@pytest.mark.django_db
def test_a_field_set_up_for_one_request_is_not_seen_by_the_next(rf, users, customer):
    from needpool.customers.models import Customer
    from needpool.requirements.api.serializers import RequirementCreateSerializer

    request = rf.get("/")
    request.user = users["manager"]
    one = RequirementCreateSerializer(context={"request": request})
    one.fields["customer"].queryset = Customer.objects.none()
    other = RequirementCreateSerializer(context={"request": request})
    assert other.fields["customer"].queryset is not one.fields["customer"].queryset
    assert customer in other.fields["customer"].queryset
