"""A Chinese sentiment scorer from a word list: negation-aware ("不满意", "没有问题"), degree words, "但是".

Pure Python, no database. Text is scanned clause by clause with forward maximum matching over one
dictionary (sentiment words, negators, degree words, neutral phrases), so "不满" wins over "不" + "满",
"能不能" (a polite request) is not a negation, and "没有任何问题" is a negated negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE)


def _words(text: str) -> list[str]:
    return text.split()


# word → weight (> 0 positive, < 0 negative)
_POSITIVE_WORDS: dict[str, float] = {
    w: 1.0
    for w in _words(
        """
    满意 喜欢 好用 方便 实用 省心 省事 顺手 顺畅 顺滑 流畅 稳定 专业 耐心 及时 高效 清晰 清爽 简洁 直观
    划算 合理 靠谱 放心 贴心 周到 给力 优秀 出色 完美 漂亮 美观 舒服 轻松 愉快 满足 有帮助 很有帮助 推荐
    值得 惊喜 感谢 谢谢 多谢 感激 点赞 好评 五星 口碑好 一目了然 提升明显 省了 节省了 轻松多了 快多了 好多了
    舒服多了 顺手多了 很快 很好 挺好 不错 太好了 太实用 没问题 没毛病 性价比高 物超所值 负责 认真 热情 到位
    解决了 修好了 修复了 如期 准时 赞 棒 很棒 厉害 收获很大 有启发 有收获 很稳定 速度快 响应快 挺快 快了
    修复后 修好 会用了 继续保持 最好 真好 非常好 特别好 越来越好 nice good great thanks
    """
    )
}
_POSITIVE_WORDS.update(
    {
        "谢谢": 0.5,
        "感谢": 0.8,
        "推荐": 0.4,
        "简单": 0.6,
        "推荐给": 1.0,
        "准": 0.5,
        "赞": 1.2,
        "点赞": 1.2,
        "非常满意": 1.6,
        "很满意": 1.4,
    }
)

_NEGATIVE_WORDS: dict[str, float] = {
    w: -1.0
    for w in _words(
        """
    不满 不满意 失望 生气 愤怒 投诉 差评 太差 很差 真差 差劲 糟糕 垃圾 烂 难用 不好用 不方便 不好 不行
    不能用 用不了 打不开 打不通 登录不了 进不去 卡顿 卡死 很卡 太卡 卡住 闪退 崩溃 宕机 白屏 乱码 报错 出错
    错误 异常 故障 失败 丢失 丢了 没了 不见了 不一致 对不上 不准 算错 错了 重复 延期 延迟 拖延 迟到 推诿
    踢皮球 敷衍 不耐烦 不专业 不负责 没人管 没人回 没人回复 没有回复 没回复 没有下文 没有进展 没进展 没解决
    没有解决 不认 难以接受 很难接受 不公平 坑 太贵 偏贵 偏高 太高 贵 涨价 多扣 乱扣 繁琐 麻烦 复杂 太复杂
    啰嗦 混乱 很乱 太乱 吃力 费劲 别扭 眼花 刺眼 不习惯 搞混 迷路 看不懂 找不到 不直观 不流畅 慢 太慢 很慢
    特别慢 等半天 浪费时间 太累 头疼 困惑 吓了一跳 损失 违约 中断 影响 老旧 不会用 学不会 没学会 不清楚
    答非所问 占线 催 催了 不够用 太少 不够 受不了 烦 烦人 没反应 没有反应 不出来 搜不到 点不动 不生效 没生效
    不同步 乱了 全乱了 清零 少了 少算 多算 输错 超卖 不安全 困难 太多 太小 太花 太杂 看不清 没确认 没打通
    卡在 不显示 显示不全 不全 费时间 bug crash error
    """
    )
}
_NEGATIVE_WORDS.update(
    {
        "问题": -0.5,
        "影响": -0.6,
        "不能": -0.6,
        "无法": -0.8,
        "没法": -0.8,
        "不了": -0.6,
        "重复": -0.4,
        "到现在": -0.5,
        "非常不满意": -1.8,
        "很不满意": -1.6,
        "很不满": -1.6,
        "太失望": -1.6,
        "很失望": -1.5,
        "体验太差": -1.6,
        "太麻烦": -1.3,
        "很麻烦": -1.2,
    }
)

# Phrases that look like sentiment or negation but are not (polite requests, questions, plain facts).
_NEUTRAL_PHRASES = frozenset(
    _words(
        """
    能不能 可不可以 是不是 要不要 会不会 有没有 行不行 好不好 对不对 能否 可否 是否 不知道 不确定 麻烦您
    麻烦你 麻烦帮 麻烦尽快 麻烦看 麻烦核实 麻烦确认 麻烦处理 尽快 不用再 不需要 无需 不要每次 好几 好久 好几层
    好的 好像 不同 不一样 不仅 不但 不管 不论 问题反馈 常见问题 报错信息 错误提示 免打扰 负责人 满意度 最好能
    贵司 贵公司 贵方 快递 就好了 就更好了 更好了 好发 好跟踪 好让
    """
    )
)

_NEGATORS = frozenset(
    _words(
        """
    不 没 没有 无 非 未 别 并不 从不 毫无 不太 不是 不再 不会 不算 并非 绝非 从没 从未 没什么 不怎么
    """
    )
)

_DEGREE: dict[str, float] = {
    "非常": 1.5,
    "特别": 1.5,
    "十分": 1.5,
    "极其": 1.8,
    "超级": 1.6,
    "超": 1.4,
    "相当": 1.4,
    "很": 1.3,
    "挺": 1.1,
    "真": 1.3,
    "太": 1.5,
    "最": 1.5,
    "更": 1.2,
    "越来越": 1.3,
    "好几次": 1.3,
    "完全": 1.4,
    "根本": 1.4,
    "实在": 1.4,
    "有点": 0.7,
    "有些": 0.7,
    "有一点": 0.7,
    "稍微": 0.6,
    "略": 0.6,
    "比较": 0.9,
    "还算": 0.8,
}

_CONTRAST = ("但是", "但", "可是", "不过", "然而", "只是", "就是")
_CLAUSE_SPLIT = re.compile(r"[，,。.！!？?；;：:\n\r、~～…]+")
_NEGATION_REACH = 4  # characters a negator may sit before the word it negates ("没有任何问题")


@dataclass(frozen=True)
class Score:
    """The lexicon's reading of a text: a signed score and what it found."""

    value: float
    positive_hits: int
    negative_hits: int
    negations: int

    @property
    def label(self) -> str:
        if self.value >= 0.6:
            return POSITIVE
        if self.value <= -0.6:
            return NEGATIVE
        return NEUTRAL

    @property
    def confidence(self) -> float:
        """A rough probability that ``label`` is right (not calibrated; used for display and ranking)."""
        strength = abs(self.value)
        if self.label == NEUTRAL:
            return round(max(0.4, 0.7 - 0.4 * strength), 2)
        return round(min(0.95, 0.6 + 0.12 * (strength - 0.6)), 2)


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, tuple[str, float]], int]:
    entries: dict[str, tuple[str, float]] = {}
    for word, weight in _POSITIVE_WORDS.items():
        entries[word] = ("sent", weight)
    for word, weight in _NEGATIVE_WORDS.items():
        entries[word] = ("sent", weight)
    for word in _NEGATORS:
        entries.setdefault(word, ("neg", 0.0))
    for word, factor in _DEGREE.items():
        # "太" is a degree word before an adjective ("太贵"), a weak negative alone.
        entries[word] = ("deg", factor)
    for word in _NEUTRAL_PHRASES:
        entries[word] = ("skip", 0.0)
    return entries, max(len(w) for w in entries)


def _tokens(clause: str) -> list[tuple[int, str, str, float]]:
    """(position, word, kind, weight) by forward maximum matching; unknown characters are skipped."""
    entries, longest = _dictionary()
    out: list[tuple[int, str, str, float]] = []
    i = 0
    n = len(clause)
    while i < n:
        for size in range(min(longest, n - i), 0, -1):
            word = clause[i : i + size]
            hit = entries.get(word)
            if hit is not None:
                out.append((i, word, hit[0], hit[1]))
                i += size
                break
        else:
            i += 1
    return out


def _clause_score(clause: str) -> tuple[float, int, int, int]:
    total = 0.0
    pos = neg = negations = 0
    negated_until = -1
    negation_parity = 0
    degree = 1.0
    for position, word, kind, weight in _tokens(clause):
        if kind == "skip":
            continue
        if kind == "neg":
            negation_parity = negation_parity ^ 1 if position <= negated_until else 1
            negated_until = position + len(word) + _NEGATION_REACH
            continue
        if kind == "deg":
            degree *= weight
            continue
        value = weight * degree
        if negation_parity and position <= negated_until:
            negations += 1
            # "不方便" is clearly negative; "没有问题" / "不贵" is only mildly positive.
            value = -value if value > 0 else -0.5 * value
        if value > 0:
            pos += 1
        elif value < 0:
            neg += 1
        total += value
        degree = 1.0
        negation_parity = 0
        negated_until = -1
    return total, pos, neg, negations


def score(text: str) -> Score:
    """Score ``text``; clauses after a contrast word ("但是 …") weigh more than those before it."""
    text = (text or "").lower()
    total = 0.0
    pos = neg = negations = 0
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(text) if c.strip()]
    weights = [1.0] * len(clauses)
    for index, clause in enumerate(clauses):
        for marker in _CONTRAST:
            if clause.startswith(marker):
                weights[index] = 1.5
                for earlier in range(index):
                    weights[earlier] = min(weights[earlier], 0.7)
                break
    for clause, weight in zip(clauses, weights, strict=True):
        # A clause that contains a contrast word mid-way ("态度挺好的就是速度慢") is split there too.
        parts = [clause]
        for marker in ("但是", "可是", "不过", "就是"):
            if marker in clause and not clause.startswith(marker):
                head, _sep, tail = clause.partition(marker)
                parts = [head, tail]
                break
        for part_index, part in enumerate(parts):
            value, p, n, g = _clause_score(part)
            factor = weight * (0.7 if len(parts) == 2 and part_index == 0 else 1.5 if len(parts) == 2 else 1.0)
            total += value * factor
            pos += p
            neg += n
            negations += g
    if "!" in text or "！" in text:
        total *= 1.2
    return Score(value=round(total, 3), positive_hits=pos, negative_hits=neg, negations=negations)


def sentiment(text: str) -> tuple[str, float]:
    """The label (positive / neutral / negative) and its confidence."""
    result = score(text)
    return result.label, result.confidence
