"""The 5-Whys editor on the analysis desk: add rows in place (htmx), save, reload; a half-filled why is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from needpool.analysis.models import RequirementAnalysis, WhyStep
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot

CHAIN = [
    ("为什么交付总是延期？", "供应商经常晚交货"),
    ("为什么供应商晚交货？", "我们没有按交付表现考核供应商"),
    ("为什么没有考核？", "采购流程里没有这一步"),
]
ROOT = "缺少供应商交付表现的管理机制"


def _saved(requirement):
    return [(w.question, w.answer) for w in WhyStep.objects.filter(requirement=requirement).order_by("position")]


def test_five_whys_editor_adds_saves_and_refuses_a_why_without_answer(page, users, requirement):
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/analysis/requirements/{requirement.pk}/")
    editor = page.locator("#whys-editor")
    questions = editor.locator("input[name=question]")
    answers = editor.locator("[name=answer]")
    expect(questions).to_have_count(1)

    for index, (question, answer) in enumerate(CHAIN):
        if index:
            page.locator("#why-add").click()
            expect(questions).to_have_count(index + 1)
            expect(questions.nth(index)).to_be_focused()  # the new row is ready to type in
        questions.nth(index).fill(question)
        answers.nth(index).fill(answer)
    page.locator("#why-root").fill(ROOT)
    url_before = page.url
    page.locator("#why-save").click()
    expect(page.locator("#whys-saved")).to_be_visible()
    assert page.url == url_before  # htmx swapped the editor in place
    assert _saved(requirement) == CHAIN
    assert RequirementAnalysis.objects.get(requirement=requirement).root_cause == ROOT

    page.reload()
    expect(questions).to_have_count(3)
    for index, (question, answer) in enumerate(CHAIN):
        expect(questions.nth(index)).to_have_value(question)
        expect(answers.nth(index)).to_have_value(answer)
    expect(page.locator("#why-root")).to_have_value(ROOT)

    # A fourth why without its answer: refused with a message, nothing saved.
    page.locator("#why-add").click()
    expect(questions).to_have_count(4)
    questions.nth(3).fill("为什么采购流程里没有这一步？")
    page.locator("#why-save").click()
    error = page.locator("#whys-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("第 4 步的“为什么”和“因为”都要填写")
    expect(answers.nth(3)).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(questions.nth(3)).to_have_value("为什么采购流程里没有这一步？")  # what was typed stays
    assert _saved(requirement) == CHAIN

    # Removing the half-filled row and saving again works.
    editor.locator(".why-remove").nth(3).click()
    expect(questions).to_have_count(3)
    page.locator("#why-save").click()
    expect(page.locator("#whys-saved")).to_be_visible()
    assert _saved(requirement) == CHAIN


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768)])
def test_a_long_answer_is_counted_then_refused_never_cut(page, users, requirement, width, height):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/analysis/requirements/{requirement.pk}/")
    editor = page.locator("#whys-editor")
    long_answer = "供应商" * 200  # 600 characters, twice the limit
    editor.locator("[name=question]").first.fill("为什么交付总是延期？")
    answer = editor.locator("[name=answer]").first
    answer.fill(long_answer)
    counter = page.locator("#why-a-0-counter")
    expect(counter).to_contain_text("600 / 300")
    expect(counter).to_contain_text("超出 300")
    expect(answer).to_have_value(long_answer)  # pasted whole: no maxlength cut it
    page.locator("#why-root").fill(ROOT)
    page.locator("#why-save").click()
    error = page.locator("#whys-error")
    expect(error).to_contain_text("有 600 个字，最多 300 个字")
    expect(page.locator("#whys-saved")).to_have_count(0)
    expect(editor.locator("[name=answer]").first).to_have_value(long_answer)
    expect(page.locator("#why-a-0-counter")).to_contain_text("600 / 300")  # the counter is back after the swap
    assert _saved(requirement) == []
    assert_no_horizontal_overflow(page, width)
    page.locator("#whys-editor").scroll_into_view_if_needed()
    screenshot(page, f"whys-long-answer-{width}")
