"""The words generated volume is made of: names, places, asks and pains, and their index segmentation."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from needpool.core.text import segment_for_index
from needpool.customers.choices import DecisionRole

# fmt: off
INDUSTRIES = (
    ("互联网", "科技有限公司"), ("制造业", "制造股份有限公司"), ("零售", "商贸有限公司"),
    ("电子商务", "电子商务有限公司"), ("金融", "金融服务有限公司"), ("物流", "物流有限公司"),
    ("医疗", "医疗器械有限公司"), ("教育", "教育科技有限公司"), ("能源", "能源集团有限公司"),
    ("房地产", "置业有限公司"), ("餐饮", "餐饮管理有限公司"), ("汽车", "汽车零部件有限公司"),
)
AREA_CODES = {
    "北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571", "苏州": "0512",
    "南京": "025", "成都": "028", "武汉": "027", "西安": "029", "重庆": "023", "天津": "022",
    "长沙": "0731", "郑州": "0371", "青岛": "0532", "厦门": "0592", "宁波": "0574", "合肥": "0551",
    "济南": "0531", "福州": "0591", "东莞": "0769", "佛山": "0757", "无锡": "0510", "昆明": "0871",
}
CITIES = tuple(AREA_CODES)
BRANDS = (
    "云帆", "鼎盛", "华信", "恒通", "瑞丰", "博远", "星辰", "汇达", "远航", "金桥", "中联", "天润",
    "新锐", "宏图", "明德", "启航", "优品", "智诚", "东方", "长青", "海纳", "万象", "卓越", "正泰",
    "嘉禾", "同创", "银河", "锦程", "力拓", "盛世", "精工", "安信", "晨曦", "蓝海", "和泰", "众联",
)
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "杰", "涛", "明", "超", "霞", "平", "刚",
    "桂英", "建华", "晓东", "丽娟",
)
TITLES = (
    ("采购总监", DecisionRole.DECISION_MAKER), ("总经理", DecisionRole.DECISION_MAKER),
    ("信息部经理", DecisionRole.INFLUENCER), ("运营主管", DecisionRole.INFLUENCER),
    ("IT 负责人", DecisionRole.INFLUENCER), ("财务经理", DecisionRole.USER), ("业务专员", DecisionRole.USER),
)
MODULES = (
    "订单管理", "库存管理", "报表中心", "客户门户", "移动端", "支付结算", "物流配送", "会员体系",
    "权限管理", "数据看板", "审批流程", "消息通知", "发票管理", "采购管理", "合同管理", "工单系统",
    "营销活动", "商品管理", "财务对账", "开放平台", "售后服务", "价格体系", "数据导入导出", "系统集成",
)
# (ask, type key, category key, tag key or "")
FEATURES = (
    ("按客户等级设置批量折扣规则", "function_improvement", "business", "bulk_operation"),
    ("支持批量导入订单", "function_improvement", "functional", "bulk_operation"),
    ("支持批量修改价格", "function_improvement", "functional", "bulk_operation"),
    ("支持导出 Excel 报表", "function", "functional", "efficiency"),
    ("提供实时监控大屏", "function", "functional", "feature_suggestion"),
    ("开放 API 接口", "function", "functional", "feature_suggestion"),
    ("对接 ERP 系统", "function", "business", "efficiency"),
    ("支持多级审批", "function", "business", ""),
    ("优化页面加载速度", "experience", "performance", "efficiency"),
    ("增加自定义字段", "function_improvement", "functional", "feature_suggestion"),
    ("支持定时推送报表", "function", "functional", "efficiency"),
    ("增加短信和邮件提醒", "function", "functional", ""),
    ("支持扫码入库", "function", "functional", "efficiency"),
    ("优化搜索体验", "experience", "usability", ""),
    ("支持多语言界面", "function", "usability", "feature_suggestion"),
    ("增加数据权限控制", "function", "security", ""),
    ("支持电子发票", "function", "business", ""),
    ("缩短配送时效", "service", "business", "service_complaint"),
    ("提供专属客服", "service", "business", "service_complaint"),
    ("降低续费价格", "price", "business", "price_inquiry"),
    ("提供阶梯报价", "price", "business", "price_inquiry"),
    ("简化操作流程", "experience", "usability", "efficiency"),
    ("修复导出乱码问题", "bug", "functional", ""),
    ("修复移动端闪退", "bug", "performance", ""),
    ("支持离线使用", "function", "functional", ""),
    ("增加操作日志", "function", "security", ""),
    ("支持单点登录", "function", "security", "feature_suggestion"),
    ("支持自定义报表模板", "function_improvement", "functional", "feature_suggestion"),
    ("提供培训和使用指南", "service", "business", ""),
    ("增加库存预警", "function", "business", "efficiency"),
    ("支持分批发货", "function", "business", ""),
    ("优化对账流程", "function_improvement", "business", "efficiency"),
)
TITLE_TEMPLATES = ("{module}{ask}", "{module}：{ask}", "希望{module}{ask}", "建议{module}{ask}", "{ask}（{module}）")
PAINS = (
    "人工核对订单耗时较长", "各系统数据不一致", "操作步骤繁琐", "高峰期系统响应缓慢", "配送经常延迟",
    "报表需要手工汇总", "审批流程过长", "客户投诉处理不及时", "价格调整需要逐个修改", "无法及时发现异常",
    "数据无法与现有系统打通", "新员工上手困难", "导出的数据格式不符合要求", "移动端体验较差",
    "月底对账经常出错", "库存数据更新不及时", "续费价格偏高", "权限划分不够细",
)
IMPACTS = ("一线员工效率", "客户满意度", "月度结算", "续约意向", "业务扩张", "管理层决策", "门店运营")
EXPECTS = (
    "预计可节省 50% 人工", "期望上线后使用率不低于 30%", "以便管理层随时掌握进度", "减少重复录入",
    "提升客户复购率", "降低投诉率", "缩短处理时长一半以上", "满足集团合规要求",
)
VOICES = (
    "{industry}客户反馈：", "销售拜访时客户提到：", "客服工单中客户表示：", "年度回访中客户建议：",
    "客户在问卷中写道：", "行业展会上客户询问：",
)
HOURS = (10, 20, 30, 40, 60, 80, 120, 160, 200)
# fmt: on


def sts_sentences() -> list[str]:
    """General-domain Chinese sentences (STS-B) used as extra description text, when the file is there."""
    configured = os.environ.get("NEEDPOOL_DEMO_SENTENCES")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sts-b-zh" / "STS-B.train.data")
    for path in candidates:
        if path.is_file():
            seen: dict[str, None] = {}
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    for sentence in line.rstrip("\n").split("\t")[:2]:
                        sentence = sentence.strip()
                        if 4 <= len(sentence) <= 80:
                            seen.setdefault(_end_with_stop(sentence), None)
            return list(seen)
    return []


def _end_with_stop(text: str) -> str:
    """End a fragment with punctuation so jieba never joins it with the next one."""
    return text if text[-1] in "。！？；，：!?;,:" else text + "。"


class Segmenter:
    """``segment_for_index`` per fragment, cached: the index text of a join is the join of these."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, fragment: str) -> str:
        cached = self._cache.get(fragment)
        if cached is None:
            cached = self._cache[fragment] = segment_for_index(fragment)
        return cached

    def code(self, code: str) -> str:
        # A plain letters-and-digits code is one jieba word; anything else goes through jieba.
        return code.lower() if code.isascii() and code.isalnum() else segment_for_index(code)

    def index_text(self, code: str, *fields: Sequence[str]) -> str:
        parts = [self.code(code)]
        for fragments in fields:
            parts.extend(self(f) for f in fragments)
        return " ".join(p for p in parts if p)


def requirement_texts(rng: random.Random, industry: str, sentences: Sequence[str]) -> dict[str, Any]:
    """The texts of one generated requirement: title, fragments of its fields, the customer's words, options."""
    module = rng.choice(MODULES)
    ask, type_key, category_key, tag_key = rng.choice(FEATURES)
    title = rng.choice(TITLE_TEMPLATES).format(module=module, ask=ask)
    pain = rng.choice(PAINS)
    description = [
        rng.choice(VOICES).format(industry=industry),
        f"{pain}，",
        f"希望{module}{ask}。",
    ]
    if sentences and rng.random() < 0.6:
        description.append("补充记录：")
        description.append(rng.choice(sentences))
    background = [
        rng.choice(
            (
                f"目前{pain}，",
                f"客户为{industry}企业，{pain}，",
                f"{module}使用中{pain}，",
            )
        ),
        rng.choice((f"每月约浪费 {rng.choice(HOURS)} 小时人工。", f"影响{rng.choice(IMPACTS)}。")),
    ]
    concrete = [f"{module}{ask}，", f"{rng.choice(EXPECTS)}。"]
    voice = f"我们{pain}，希望{module}{ask}。"
    return {
        "title": title,
        "description": description,
        "background": background,
        "concrete": concrete,
        "voice": voice,
        "type": type_key,
        "category": category_key,
        "tag": tag_key,
    }
