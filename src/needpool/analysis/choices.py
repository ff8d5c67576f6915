from django.db import models
from django.utils.translation import gettext_lazy as _


class PriorityModelKind(models.TextChoices):
    MATRIX = "matrix", _("紧急 × 重要矩阵")
    MATRIX_3D = "matrix_3d", _("重要 × 紧急 × 资源成本（三维）")
    VALUE_COST = "value_cost", _("价值 / 成本")
    WEIGHTED = "weighted", _("加权评分")
    RICE = "rice", _("RICE")
    MOSCOW = "moscow", _("MoSCoW")


class MoSCoW(models.TextChoices):
    MUST = "must", _("必须有 Must")
    SHOULD = "should", _("应该有 Should")
    COULD = "could", _("可以有 Could")
    WONT = "wont", _("这次不做 Won't")


class KanoAnswer(models.TextChoices):
    LIKE = "like", _("我喜欢")
    MUST_BE = "must_be", _("理所当然")
    NEUTRAL = "neutral", _("无所谓")
    LIVE_WITH = "live_with", _("能忍受")
    DISLIKE = "dislike", _("我不喜欢")


class KanoCategory(models.TextChoices):
    ATTRACTIVE = "A", _("魅力型")
    ONE_DIMENSIONAL = "O", _("期望型")
    MUST_BE = "M", _("必备型")
    INDIFFERENT = "I", _("无差异型")
    REVERSE = "R", _("反向型")
    QUESTIONABLE = "Q", _("可疑结果")


class FishboneCategory(models.TextChoices):
    PEOPLE = "people", _("人")
    MACHINE = "machine", _("机")
    MATERIAL = "material", _("料")
    METHOD = "method", _("法")
    ENVIRONMENT = "environment", _("环")
    MEASUREMENT = "measurement", _("测")


class ComplianceStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("合规通过")
    REJECTED = "rejected", _("不合规")
