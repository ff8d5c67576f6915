"""Closing the loop 闭环: customer notices, CSAT / NPS surveys, effect evaluation, follow-up cadence."""

from __future__ import annotations
