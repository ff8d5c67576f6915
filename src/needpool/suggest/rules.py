"""Keyword rules: the fallback for type and tags while an organisation has few classified examples.

Each option has a keyword list (seeded below for the default options, editable by admins); the
option's own label and the words of its description count as keywords too. Pure Python, no database:
the caller passes ``{option key: [keywords]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

# (dimension, option key) → seed keywords. Options added later start with their label and description.
_SEED: dict[tuple[str, str], str] = {
    ("type", "function"): (
        "功能 新增 增加 添加 支持 开发 上线 新模块 接口 API 对接 集成 接入 小程序 门户 能否 能不能 可否 "
        "希望能 希望可以 希望有 有没有 如果能 就好了 想要 需要一个"
    ),
    ("type", "function_improvement"): (
        "优化 改进 完善 改善 增强 升级 调整 改成 细化 更灵活 再灵活 简化 现在只能 只能 现有的 "
        "现在的 目前的 太少 限制 不够 希望改 放宽"
    ),
    ("type", "service"): (
        "服务 客服 售后 响应 回复 态度 培训 上门 实施 顾问 工单 技术支持 对接人 客户经理 "
        "客户成功 热线 维修 交付 回访 驻场 远程协助 专属"
    ),
    ("type", "price"): (
        "价格 报价 费用 收费 计费 多少钱 折扣 打折 优惠 续费 涨价 降价 套餐 预算 便宜 贵 单价 "
        "年费 发票 账单 扣费 付款 分期 含税 性价比 退费"
    ),
    ("type", "experience"): (
        "体验 界面 页面 操作 易用 好用 难用 繁琐 麻烦 复杂 卡顿 很卡 加载 流畅 顺手 美观 布局 "
        "字体 配色 颜色 按钮 菜单 弹窗 找不到 不直观 步骤 上手 引导 交互 快捷键 深色模式 排版"
    ),
    ("type", "bug"): (
        "报错 错误 异常 失败 崩溃 闪退 宕机 bug 故障 打不开 无法 不能用 丢失 乱码 白屏 "
        "不一致 对不上 不生效 没反应 不出来 500 算错 重复 卡死 点不动 清零 没了"
    ),
    ("type", "other"): "合作 代理 渠道 认证 资质 营业执照 峰会 交流 参观 案例 社群",
    ("tag", "feature_suggestion"): (
        "建议 希望 能否 能不能 可否 可以 想要 需要 新增 增加 添加 支持 如果能 就好了 有没有 想在"
    ),
    ("tag", "service_complaint"): (
        "投诉 不满 态度 没人 没有回复 没回复 没有下文 推诿 踢皮球 不专业 敷衍 迟到 延期 催 "
        "不耐烦 失望 没人管 不认 一直没"
    ),
    ("tag", "price_inquiry"): (
        "价格 报价 多少钱 费用 收费 计费 折扣 打折 优惠 续费 套餐 单价 年费 便宜 贵 涨价 怎么收 含税"
    ),
    ("tag", "bulk_operation"): (
        "批量 一键 全选 多选 一次性 一次导出 一次勾选 一次选 群发 全部导 批处理 导入 一个一个 一个个 一张一张 逐单"
    ),
    ("tag", "efficiency"): (
        "效率 省时 节省 省一 自动 耗时 太慢 浪费时间 费时间 重复 手工 手动 人工 快速 太累 "
        "一个一个 一个个 点好几 要点 来回 一直等 人效"
    ),
}
DEFAULT_KEYWORDS: dict[tuple[str, str], tuple[str, ...]] = {key: tuple(words.split()) for key, words in _SEED.items()}

_SPLIT = re.compile(r"[\s,，、;；/|]+")
_DESCRIPTION_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z0-9]+")


def parse_keywords(text: str) -> list[str]:
    """Keywords as a user types them: separated by spaces, commas (， ,), 、, semicolons or new lines."""
    seen: dict[str, None] = {}
    for word in _SPLIT.split(text or ""):
        word = word.strip()
        if word:
            seen.setdefault(word, None)
    return list(seen)


def option_keywords(label: str, description: str, keywords: Iterable[str]) -> list[str]:
    """Everything that counts as a keyword of one option: its own list, its label, its description's words."""
    seen: dict[str, None] = {}
    for word in [*keywords, label, *_DESCRIPTION_WORD.findall(description or "")]:
        word = (word or "").strip()
        if word:
            seen.setdefault(word, None)
    return list(seen)


@dataclass(frozen=True)
class RuleHit:
    key: str
    score: float
    confidence: float
    matched: tuple[str, ...]


@lru_cache(maxsize=256)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first, so a keyword inside a longer one that matches there counts once ("一个" in "一个个").
    words = sorted({w.lower() for w in keywords if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def matched_keywords(text: str, keywords: Iterable[str]) -> list[str]:
    """The distinct keywords found in ``text`` (case-insensitive), in order of appearance."""
    pattern = _pattern(tuple(keywords))
    if pattern is None:
        return []
    return list(dict.fromkeys(pattern.findall(text.lower())))


def keyword_weight(word: str) -> float:
    return 1.0 + 0.5 * min(len(word) - 1, 3)


def score_options(text: str, table: Mapping[str, Iterable[str]]) -> list[RuleHit]:
    """Options whose keywords occur in ``text``, best first, with a rough confidence."""
    hits: list[tuple[str, float, tuple[str, ...]]] = []
    for key, keywords in table.items():
        matched = matched_keywords(text, keywords)
        if matched:
            hits.append((key, sum(keyword_weight(w) for w in matched), tuple(matched)))
    hits.sort(key=lambda h: -h[1])
    total = sum(h[1] for h in hits)
    out: list[RuleHit] = []
    for key, score, words in hits:
        share = score / (total + 1.0)
        out.append(RuleHit(key=key, score=score, confidence=round(min(0.85, 0.3 + 0.6 * share), 2), matched=words))
    return out


def suggest_single(text: str, table: Mapping[str, Iterable[str]]) -> RuleHit | None:
    """The best option for a single-choice dimension (type), or None when no keyword matches."""
    hits = score_options(text, table)
    return hits[0] if hits else None


def suggest_multi(text: str, table: Mapping[str, Iterable[str]], *, limit: int = 3) -> list[RuleHit]:
    """Every option with a keyword match (tags), up to ``limit``; confidence grows with the evidence."""
    out: list[RuleHit] = []
    for key, keywords in table.items():
        found = matched_keywords(text, keywords)
        if found:
            score = sum(keyword_weight(w) for w in found)
            out.append(
                RuleHit(key=key, score=score, confidence=round(min(0.85, 0.35 + 0.12 * score), 2), matched=tuple(found))
            )
    out.sort(key=lambda h: -h.score)
    return out[:limit]
