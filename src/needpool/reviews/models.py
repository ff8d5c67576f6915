"""Review meetings 评审会议: agenda, material, decisions, minutes."""

from __future__ import annotations
