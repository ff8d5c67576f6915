"""Cell values of imported sheets: text, whole numbers, dates and date-times, options and choices.

Every parser takes the raw cell (what calamine or the CSV reader gave: str, float, int, bool, date,
datetime, time, timedelta or "") and returns a Python value, or raises ``CellProblem`` with a message in
the user's language.

Dates accept Excel date cells, Excel serial numbers (whole numbers between 1 and 2958465 in a date
column; calamine gives a serial only when the cell is not formatted as a date), 8-digit numbers
(20240301) and text: ``2024-03-01``, ``2024/3/1``, ``2024.3.1``, ``2024年3月1日``, each optionally
followed by a time. A period without a day stands for **its last day**: ``2024年Q2`` / ``2024 Q2`` /
``2024年第二季度`` → 2024-06-30, ``2024年6月`` / ``2024-06`` → 2024-06-30, ``2024年`` → 2024-12-31,
because in these sheets a date column without a day is a deadline ("wanted by Q2": by its end).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Choices
from django.utils import timezone, translation
from django.utils.translation import gettext as _

EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31


class CellProblem(ValueError):
    """A cell that cannot be read; ``message`` is shown to the user next to the row, column and value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), trimmed; for comparing labels and headers."""
    return unicodedata.normalize("NFKC", text).strip()


def display(raw: Any) -> str:
    """A cell as the user typed it, for error messages."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M:%S").removesuffix(":00").removesuffix(" 00:00")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


# ---------------------------------------------------------------- text and numbers


def parse_text(raw: Any, *, max_length: int | None = None) -> str:
    """Text of a cell; whole numbers written by Excel as floats (2024001.0) come back as 2024001."""
    if is_blank(raw):
        return ""
    if isinstance(raw, bool):
        return _("是") if raw else _("否")
    text = display(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if max_length is not None and len(text) > max_length:
        raise CellProblem(_("内容过长：最多 %(max)s 个字符，当前 %(n)s 个。") % {"max": max_length, "n": len(text)})
    return text


def parse_whole(raw: Any, *, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number (5, 5.0, "5", "５"); 5.5, "五" and out-of-range values are refused."""
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        raise CellProblem(_("必须是整数。"))
    try:
        number = Decimal(normalize(str(raw)) if not isinstance(raw, float) else repr(raw))
    except InvalidOperation as exc:
        raise CellProblem(_("必须是整数。")) from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise CellProblem(_("必须是整数。"))
    value = int(number)
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellProblem(_("必须是 %(low)s 到 %(high)s 之间的整数。") % {"low": low, "high": high})
    return value


# ---------------------------------------------------------------- dates

_TIME = r"(?:[ T]+(?P<h>\d{1,2})[:：](?P<mi>\d{1,2})(?:[:：](?P<s>\d{1,2})(?:\.\d+)?)?)?"
_YMD = re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})" + _TIME + r"$")
_CN_YMD = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME + r"$")
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_YM = re.compile(r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*月?(?:份)?$")
_QUARTER = re.compile(r"(?P<y>\d{4})\s*年?\s*(?:[-/ ]\s*)?(?:Q|第\s*)(?P<q>[1-4一二三四])\s*(?:季度|季)?$", re.I)
_YEAR = re.compile(r"(?P<y>\d{4})\s*年?(?:底|末)?$")
_QUARTER_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def _period_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _from_serial(number: float) -> dt.datetime:
    if not 1 <= number <= MAX_EXCEL_SERIAL:
        raise CellProblem(_("无法识别的日期。"))
    days = int(number)
    seconds = round((number - days) * 86400)
    return dt.datetime.combine(EXCEL_EPOCH + dt.timedelta(days=days), dt.time()) + dt.timedelta(seconds=seconds)


def _interpreted_note(kind: str) -> str:
    """Why a date cell was read by interpretation (shown on the preview); "" when read as written."""
    notes = {
        "serial": lambda: _("Excel 日期序号按日期读取"),
        "quarter": lambda: _("季度按其最后一天读取"),
        "month": lambda: _("月份按当月最后一天读取"),
        "year": lambda: _("年份按当年最后一天读取"),
    }
    return notes[kind]() if kind in notes else ""


def _read_moment(raw: Any) -> tuple[dt.datetime, bool, str]:
    """(naive date-time, has_time, how it was interpreted: "", serial, quarter, month or year); raises
    CellProblem."""
    if isinstance(raw, dt.datetime):
        value = raw.replace(microsecond=0) + dt.timedelta(seconds=round(raw.microsecond / 1e6))
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return value, bool(value.time() != dt.time()), ""
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time()), False, ""
    if isinstance(raw, bool):
        raise CellProblem(_("无法识别的日期。"))
    if isinstance(raw, int | float):
        if float(raw).is_integer() and (19000101 <= raw <= 29991231 or 1900 <= raw <= 2999):
            return _read_moment(str(int(raw)))
        value = _from_serial(float(raw))
        return value, bool(value.time() != dt.time()), "serial"
    text = normalize(str(raw))
    try:
        for pattern in (_YMD, _CN_YMD):
            match = pattern.match(text)
            if match:
                day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
                if match["h"] is None:
                    return dt.datetime.combine(day, dt.time()), False, ""
                moment = dt.time(int(match["h"]), int(match["mi"]), int(match["s"] or 0))
                return dt.datetime.combine(day, moment), True, ""
        match = _COMPACT.match(text)
        if match:
            return dt.datetime(int(match["y"]), int(match["m"]), int(match["d"])), False, ""
        match = _QUARTER.match(text)
        if match:
            quarter = _QUARTER_DIGITS.get(match["q"]) or int(match["q"])
            return dt.datetime.combine(_period_end(int(match["y"]), quarter * 3), dt.time()), False, "quarter"
        match = _YM.match(text)
        if match:
            return dt.datetime.combine(_period_end(int(match["y"]), int(match["m"])), dt.time()), False, "month"
        match = _YEAR.match(text)
        if match:
            return dt.datetime(int(match["y"]), 12, 31), False, "year"
        if re.fullmatch(r"\d+(\.\d+)?", text):
            value = _from_serial(float(text))
            return value, bool(value.time() != dt.time()), "serial"
    except ValueError as exc:  # 2024-02-30, month 13, hour 25
        if isinstance(exc, CellProblem):
            raise
        raise CellProblem(_("日期不存在。")) from exc
    raise CellProblem(_("无法识别的日期，请使用 2024-03-01、2024/3/1、2024年3月1日 或 2024年Q2 这样的格式。"))


def parse_date(raw: Any) -> dt.date | None:
    return parse_date_ex(raw)[0]


def parse_datetime(raw: Any) -> dt.datetime | None:
    """An aware date-time in the site's time zone; a date alone means its midnight."""
    return parse_datetime_ex(raw)[0]


def parse_date_ex(raw: Any) -> tuple[dt.date | None, str]:
    """(the date, why it was read by interpretation or ""): a quarter, a month or a year stands for its last
    day, a number for an Excel serial; the note lets the preview flag the value."""
    if is_blank(raw):
        return None, ""
    moment, _has_time, kind = _read_moment(raw)
    return moment.date(), _interpreted_note(kind)


def parse_datetime_ex(raw: Any) -> tuple[dt.datetime | None, str]:
    """(the aware date-time, why it was read by interpretation or ""): see ``parse_date_ex``."""
    if is_blank(raw):
        return None, ""
    moment, _has_time, kind = _read_moment(raw)
    return timezone.make_aware(moment), _interpreted_note(kind)


def leading_date(text: str) -> dt.date | None:
    """The date a follow-up plan starts with ("2024-03-20提供技术方案" → 2024-03-20), if any."""
    match = re.match(r"\s*(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?)", normalize(text))
    if not match:
        return None
    try:
        return parse_date(match.group(1))
    except CellProblem:
        return None


def local_moment(value: dt.datetime | None) -> dt.datetime | None:
    """An aware date-time as the naive local time written into a sheet, to the second."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- lists, options and choices

_LIST_SPLIT = re.compile(r"[\n;；/|,，、]+")
_LINE_SPLIT = re.compile(r"[\n;；]+")


def split_list(raw: Any, *, lines_only: bool = False) -> list[str]:
    """Items of a list cell: 批量操作/效率提升, 'a、b', 'a; b' (``lines_only``: only newlines and ;)."""
    text = parse_text(raw)
    pattern = _LINE_SPLIT if lines_only else _LIST_SPLIT
    return [part.strip() for part in pattern.split(text) if part.strip()]


def value_key(text: str) -> str:
    """How a name is matched: width, case, spaces, _ and - ignored."""
    return re.sub(r"[\s_\-]+", "", normalize(text).lower())


_key = value_key


@dataclass
class Lookup:
    """Names → value, case- and width-insensitive; a name shared by two values is ambiguous."""

    entries: dict[str, set[Any]] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        if name and str(name).strip():
            self.entries.setdefault(_key(str(name)), set()).add(value)

    def find(self, name: str) -> set[Any]:
        return self.entries.get(_key(name), set())


def choice_lookup(choices: type[Choices], synonyms: Mapping[Any, Iterable[str]] | None = None) -> Lookup:
    """A TextChoices by value, Chinese label and English label (whatever the active language is)."""
    lookup = Lookup()
    for value in choices.values:
        lookup.add(str(value), value)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in choices.choices:
                lookup.add(str(label), value)
    for value, names in (synonyms or {}).items():
        for name in names:
            lookup.add(name, value)
    return lookup


def choice_label(choices: type[Choices], value: str) -> str:
    """The label of ``value`` in the active language ("" for blank)."""
    if not value:
        return ""
    return str(dict(choices.choices).get(value, value))


def pick_one(found: set[Any], raw: Any, *, unknown: Callable[[], str], ambiguous: Callable[[], str]) -> Any:
    if not found:
        raise CellProblem(unknown())
    if len(found) > 1:
        raise CellProblem(ambiguous())
    return next(iter(found))


# ---------------------------------------------------------------- customer names and shortened texts

# Trailing words that say what kind of company it is, not which one (longest first; Latin ones as words).
COMPANY_SUFFIXES: tuple[tuple[str, ...], ...] = (
    tuple("有限责任公司"),
    tuple("股份有限公司"),
    tuple("有限公司"),
    tuple("公司"),
    tuple("集团"),
    ("co", "ltd"),
    ("co", "limited"),
    ("coltd",),
    ("ltd",),
    ("limited",),
    ("inc",),
)
_COMPANY_TOKENS = re.compile(r"[a-z0-9]+|[^\W_]")


def _fold(text: str) -> str:
    """Width and case folded (NFKC, casefold, NFKC: the caseless match of Unicode)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _company_pass(name: str) -> str:
    tokens = _COMPANY_TOKENS.findall(_fold(name))
    stripped = True
    while stripped:
        stripped = False
        for suffix in COMPANY_SUFFIXES:
            if len(tokens) > len(suffix) and tuple(tokens[-len(suffix) :]) == suffix:
                tokens = tokens[: -len(suffix)]
                stripped = True
                break
    return "".join(tokens) or "".join(_fold(name).split())  # a name of punctuation only keeps it


def company_key(name: str) -> str:
    """What two spellings of one customer's name have in common, for matching a sheet's name to a customer.

    Full-width and half-width folded, case folded, spaces and punctuation dropped, and the trailing words
    that only say what kind of company it is (有限责任公司, 股份有限公司, 有限公司, 公司, 集团, Co., Ltd.,
    Ltd, Limited, Inc) stripped, repeatedly: "A科技公司", "Ａ科技有限公司" and "A 科技公司" all give "a科技".
    A Latin suffix counts only as a word of its own ("Zinc" keeps its "inc"). A name that is nothing but
    such words ("公司"), or only of punctuation, keeps them: the key of a non-blank name is never blank.
    Idempotent.
    """
    key = _company_pass(name)
    for _round in range(10):
        again = _company_pass(key)
        if again == key:
            break
        key = again
    return key


_ELLIPSIS = re.compile(r"(?:…+|\.{2,}|。{2,}|等)+$")


def _text_key(text: str) -> str:
    """The words of a text: width and case folded, without spaces and punctuation, a trailing … or 等 dropped."""
    folded = _ELLIPSIS.sub("", _fold(text).strip())
    return "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch)[0] in "PSZ"))


def is_shortened(new: str, old: str) -> bool:
    """Whether ``new`` is a shortened form of ``old``: a text that must not replace it.

    The rule: compare the words of both texts (width and case folded, spaces and punctuation ignored, a
    trailing "…", "..." or "等" dropped); ``new`` is a shortened form of ``old`` when its words are fewer
    and appear, contiguous and in order, within ``old``'s. "批量订单折扣功能" shortens "希望增加批量订单
    折扣功能,支持按客户等级设置不同折扣规则"; so do "希望增加批量订单…" (a cut-off copy) and "". A text that
    says something ``old`` does not ("批量订单折扣功能（新）", or one that leaves words out of the middle)
    is an edit, not a shortening.
    """
    short, full = _text_key(new), _text_key(old)
    return len(short) < len(full) and short in full
