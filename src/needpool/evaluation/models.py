"""Effect evaluation 效果评估: after launch, did it meet the need (the plan's metric: target and actual)."""

from __future__ import annotations
