"""A sheet names a customer however people spell it: matched by code, then by its normalised name
(width, case, spaces and company suffixes aside); two customers with that name are ambiguous."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needpool.customers.models import Customer
from needpool.customers.services import customer_create
from needpool.intake.transfer.imports.values import company_key
from needpool.requirements.models import Feedback, Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS, MANAGEMENT_HEADERS, RELATIONSHIP_HEADERS, errors_of

pytestmark = pytest.mark.django_db


def _relationship(**values):
    row = dict.fromkeys(RELATIONSHIP_HEADERS, "")
    row.update(values)
    return [row[h] for h in RELATIONSHIP_HEADERS]


def test_the_relationship_sheet_updates_the_customer_spelled_differently(users, customer, sheet, run_sheet):
    Customer.objects.filter(pk=customer.pk).update(notes="")
    path = sheet([RELATIONSHIP_HEADERS, _relationship(客户名称="Ａ科技有限公司", 备注="年底续约")])
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert Customer.objects.count() == 1  # no second "A科技公司"
    row = result.rows[0]
    assert (row["action"], row["code"], row["changes"]) == ("update", customer.code, ["备注"])
    assert f"“Ａ科技有限公司”按名称匹配到已有客户“A科技公司”（{customer.code}）。" in row["warnings"]
    name = next(d for d in row["diffs"] if d["key"] == "name")
    assert (name["old"], name["new"], name["applied"]) == ("A科技公司", "Ａ科技有限公司", False)
    customer.refresh_from_db()
    assert (customer.name, customer.notes) == ("A科技公司", "年底续约")


def test_rows_naming_one_new_customer_create_it_once(users, sheet, run_sheet):
    rows = [
        RELATIONSHIP_HEADERS,
        _relationship(客户名称="C智能制造有限公司", 所属行业="工业"),
        _relationship(客户名称="C 智能制造公司", 备注="第二行"),
    ]
    result = run_sheet(users["sales"], sheet(rows))
    assert result.error_total == 0, result.errors
    assert [r["action"] for r in result.rows] == ["create", "update"]
    made = Customer.objects.get()
    assert (made.name, made.notes) == ("C智能制造有限公司", "第二行")


def test_two_customers_with_the_name_are_ambiguous(users, customer, sheet, run_sheet):
    customer_create(actor=users["sales"], name="A科技有限公司")
    ambiguous = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship(客户名称="Ａ科技集团")]))
    assert errors_of(ambiguous) == [(2, "客户名称", "Ａ科技集团")]
    assert "请改填客户编号" in ambiguous.errors[0]["message"]
    intake = [INTAKE_HEADERS, ["DEM-M1", "A 科技", "", "", "", "报表导出", "", "", ""]]
    assert errors_of(run_sheet(users["sales"], sheet(intake))) == [(2, "客户名称", "A 科技")]
    # Written exactly as one of them, or by code, it is that one.
    exact = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship(客户名称="A科技公司", 备注="x")]))
    assert exact.error_total == 0 and exact.rows[0]["code"] == customer.code
    assert not exact.rows[0]["warnings"]
    intake[1][1] = customer.code
    assert run_sheet(users["sales"], sheet(intake)).error_total == 0
    assert Customer.objects.count() == 2


def test_requirement_sheets_find_the_customer_by_its_normalised_name(users, customer, sheet, run_sheet):
    intake = [INTAKE_HEADERS, ["DEM-N1", "a 科技有限公司", "王总", "", "", "报表导出", "", "", ""]]
    result = run_sheet(users["sales"], sheet(intake))
    assert result.error_total == 0, result.errors
    assert any("按名称匹配到已有客户“A科技公司”" in w for w in result.rows[0]["warnings"])
    assert Feedback.objects.get(requirement__code="DEM-N1").customer == customer
    row = dict.fromkeys(MANAGEMENT_HEADERS, "")
    row |= {
        "需求编号": "202405-009",
        "需求来源": "客户电话反馈",
        "提出方信息": "Ａ科技公司、王总",
        "需求描述": "批量导出",
    }
    managed = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, [row[h] for h in MANAGEMENT_HEADERS]]))
    assert managed.error_total == 0, managed.errors
    evidence = Feedback.objects.get(requirement__code="202405-009")
    assert evidence.customer == customer and evidence.contact.name == "王总"
    assert Customer.objects.count() == 1 and Requirement.objects.count() == 2


def test_the_names_of_customers_are_read_once_per_run(users, customer, sheet, run_sheet, monkeypatch):
    from needpool.intake.transfer.imports.handlers import base

    for n in range(5):
        customer_create(actor=users["sales"], name=f"客户{n}有限公司")
    calls = []
    real = base.company_key
    monkeypatch.setattr(base, "company_key", lambda name: calls.append(name) or real(name))
    rows = [INTAKE_HEADERS] + [[f"DEM-Q{n}", "A科技", "", "", "", f"需求 {n}", "", "", ""] for n in range(10)]
    result = run_sheet(users["sales"], sheet(rows))
    assert result.error_total == 0, result.errors
    # Six customers' names once, the sheet's name once (the rows after the first reuse what it found).
    assert sorted(calls).count("A科技公司") == 2 and len(calls) <= 6 + 3


# ---------------------------------------------------------------- company_key

_NAME = st.text(alphabet=st.sampled_from(list("AbcＸｙ科技制造智能 ,.()（）-")), min_size=1, max_size=12)
_SUFFIX = st.sampled_from(
    ["", "公司", "有限公司", "有限责任公司", "股份有限公司", "集团", " Co., Ltd.", " Ltd", " Inc."]
)


def _wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@given(name=st.text(max_size=20))
def test_company_key_is_idempotent(name):
    assert company_key(company_key(name)) == company_key(name)


@given(name=_NAME, suffix=_SUFFIX)
def test_width_spaces_case_and_suffixes_do_not_matter(name, suffix):
    base = company_key(name)
    assert company_key(_wide(name + suffix)) == company_key(name + suffix)
    # Spaces anywhere except inside a Latin word ("L td" is not "Ltd").
    spaced = " " + "".join(c if c.isascii() and c.isalnum() else f" {c} " for c in name + suffix)
    assert company_key(spaced) == company_key(name + suffix)
    assert company_key((name + suffix).upper()) == company_key((name + suffix).lower())
    if base and company_key(name + "X") != "x":  # something is left besides the suffix
        assert company_key(name + "X" + suffix) == company_key(name + "X")


@given(suffix=_SUFFIX.filter(bool))
def test_a_name_that_is_only_a_suffix_keeps_itself(suffix):
    key = company_key(suffix)
    assert key and key == company_key(unicodedata.normalize("NFKC", suffix))


@given(name=st.text(min_size=1).filter(lambda s: s.strip()))
def test_the_key_of_a_name_is_never_blank(name):
    assert company_key(name)


def test_examples():
    assert company_key("A科技公司") == company_key("Ａ科技有限公司") == company_key("A 科技公司") == "a科技"
    assert company_key("Foo Co., Ltd.") == company_key("FOO Inc") == "foo"
    assert company_key("Zinc") == "zinc"  # a Latin suffix counts only as a word
    assert company_key("公司") == "公司"
