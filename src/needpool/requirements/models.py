"""Feedback, requirements, their classification lists and the status workflow."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from needpool.core.models import SoftDeletable, TimeStampedModel
from needpool.customers.choices import ValueTier
from needpool.requirements.choices import Channel, Dimension, Priority, Sentiment, StatusCategory

# The longest note on a status move or a merge (the reason of a rejection, a deferral …).
NOTE_MAX_LENGTH = 500


class ClassOption(models.Model):
    """One option of one classification dimension (type 功能, urgency 紧急 with 24 h SLA, tag 批量操作 …)."""

    dimension = models.CharField(_("维度"), max_length=20, choices=Dimension.choices)
    key = models.SlugField(_("键"), max_length=40)
    label = models.CharField(_("名称"), max_length=60)
    label_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    sla_hours = models.PositiveIntegerField(_("首次响应时限（小时）"), null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    version = models.PositiveIntegerField(
        _("版本"), default=1, editable=False, help_text=_("每次经服务写入本行时加一（ETag / 过期表单检查）")
    )

    class Meta:
        verbose_name = _("分类选项")
        verbose_name_plural = _("分类选项")
        ordering = ["dimension", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["dimension", "key"], name="classoption_dimension_key_uniq")]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label


class Workflow(models.Model):
    """A status flow (待处理 → 处理中 → … or 待分析 → 评审中 → …); admin picks the active one."""

    key = models.SlugField(_("键"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    is_active = models.BooleanField(_("当前流程"), default=False, help_text=_("新需求进入当前流程的初始状态。"))

    class Meta:
        verbose_name = _("状态流程")
        verbose_name_plural = _("状态流程")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="workflow_one_active")
        ]

    def __str__(self) -> str:
        return self.name


class WorkflowStatus(models.Model):
    """One status of a flow; ``category`` says what it means for reports, SLA and the board."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="statuses")
    key = models.SlugField(_("键"), max_length=40)
    label = models.CharField(_("名称"), max_length=40)
    label_en = models.CharField(_("英文名称"), max_length=40, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=StatusCategory.choices)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_initial = models.BooleanField(_("初始状态"), default=False)
    entry_gates = models.JSONField(
        _("进入条件"), default=list, blank=True, help_text=_("流转到此状态前必须满足的条件（门禁键列表）。")
    )
    exit_gates = models.JSONField(
        _("离开条件"), default=list, blank=True, help_text=_("离开此状态前必须满足的条件（门禁键列表）。")
    )

    class Meta:
        verbose_name = _("状态")
        verbose_name_plural = _("状态")
        ordering = ["workflow_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "key"], name="workflowstatus_key_uniq"),
            models.UniqueConstraint(
                fields=["workflow"], condition=Q(is_initial=True), name="workflowstatus_one_initial"
            ),
        ]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label

    @property
    def is_open(self) -> bool:
        return self.category in (StatusCategory.NEW, StatusCategory.ACTIVE)


class WorkflowTransition(models.Model):
    """An allowed move between two statuses of the same flow."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="transitions")
    source = models.ForeignKey(WorkflowStatus, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(WorkflowStatus, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("允许的流转")
        verbose_name_plural = _("允许的流转")
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="workflowtransition_uniq")]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class Requirement(SoftDeletable, TimeStampedModel):
    """The curated unit in the pool (需求): gathers feedback from one or more customers."""

    code = models.CharField(_("需求编号"), max_length=40, unique=True)
    rule_version = models.PositiveIntegerField(
        _("分类规则版本"), null=True, blank=True, editable=False, help_text=_("分类本需求时的分类规则版本")
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    background = models.TextField(_("背景"), blank=True)
    concrete_ask = models.TextField(_("具体诉求"), blank=True)
    expected_date = models.DateField(_("期望时间"), null=True, blank=True, db_index=True)
    type = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.TYPE},
        verbose_name=_("需求类型"),
    )
    urgency = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.URGENCY},
        verbose_name=_("紧急程度"),
    )
    nature = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.NATURE},
        verbose_name=_("需求性质"),
    )
    source = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.SOURCE},
        verbose_name=_("显性/隐性"),
    )
    category = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.CATEGORY},
        verbose_name=_("功能/非功能/业务"),
    )
    tags = models.ManyToManyField(
        ClassOption,
        blank=True,
        related_name="tagged_requirements",
        limit_choices_to={"dimension": Dimension.TAG},
        verbose_name=_("标签"),
    )
    status = models.ForeignKey(WorkflowStatus, on_delete=models.PROTECT, related_name="+", verbose_name=_("状态"))
    priority = models.CharField(_("优先级"), max_length=2, choices=Priority.choices, blank=True, db_index=True)
    customer_value = models.CharField(
        _("客户价值"), max_length=10, choices=ValueTier.choices, blank=True, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_requirements",
        verbose_name=_("负责人"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交人"),
    )
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    first_response_due = models.DateTimeField(_("首次响应截止"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    sla_breached = models.BooleanField(_("SLA 超时"), default=False)
    search_text = models.TextField(editable=False, blank=True, default="")
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("已合并到"),
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_requirements", verbose_name=_("关注人")
    )
    version = models.PositiveIntegerField(
        _("版本"), default=1, editable=False, help_text=_("每次经服务写入本行时加一（ETag / 过期表单检查）")
    )

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # A list filtered by status, owner, urgency or type (and the pager's count of it): equality on the
            # column and on the two NULLs of a live requirement, then the date. The count reads only the index,
            # and the page walks it backwards (newest first, the higher id first among equal dates) and stops at
            # its last row. With the column alone, each matching row was read from the table to test the NULLs
            # (SQLite at 100,000, 15,000 requirements of one status: the count 13 → 1 ms, the page 18 → 2 ms).
            models.Index(fields=["status", "deleted_at", "merged_into", "submitted_at"], name="req_status_live_idx"),
            models.Index(fields=["owner", "deleted_at", "merged_into", "submitted_at"], name="req_owner_live_idx"),
            models.Index(fields=["urgency", "deleted_at", "merged_into", "submitted_at"], name="req_urgency_live_idx"),
            models.Index(fields=["type", "deleted_at", "merged_into", "submitted_at"], name="req_type_live_idx"),
            models.Index(
                fields=["first_response_due"],
                condition=Q(first_responded_at__isnull=True),
                name="req_sla_pending_idx",
            ),
            # The home page's overdue list (``sla_breaches``: breached OR pending past due, soonest due first)
            # walks this in order and stops at its 20th row; the partial index above cannot serve the OR.
            models.Index(fields=["first_response_due", "id"], name="req_response_due_idx"),
            # Lists by priority, newest first within one (the delivery backlog, the analysis ranking): read in
            # order and stop at the page's end instead of sorting every requirement of the first priority.
            models.Index(fields=["priority", "-submitted_at", "-id"], name="req_priority_order_idx"),
            # Reports count live requirements (not merged, not deleted) submitted in a period: equality on the
            # two NULLs, then the range. SQLite's statistics otherwise rate "merged_into_id IS NULL" as selective
            # and walk the whole table through the foreign key's index.
            models.Index(fields=["merged_into", "deleted_at", "submitted_at"], name="req_live_submitted_idx"),
            # The analysis ranking of the whole pool (analysis.selectors.ranked) sorts every live requirement by
            # priority, score and date, and counts them for the pager: both read these columns here, not the
            # whole table (SQLite at 100,000: the page's ids 60 → 35 ms, the count 37 → 11 ms). Opt-in, like
            # feedback_demand_idx: "id IS NOT NULL" always holds and only that ranking says it. Any other list
            # also asks for the live rows; there, or with a filter on another column, the index would look
            # as good and be slower than the table (each row read again after the index).
            models.Index(
                fields=["deleted_at", "merged_into", "status", "priority", "submitted_at"],
                condition=Q(id__isnull=False),
                name="req_ranking_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Feedback(SoftDeletable, TimeStampedModel):
    """One customer's words from one channel at one time (原始需求); evidence for a requirement."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("客户"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("联系人"),
    )
    channel = models.CharField(_("渠道"), max_length=30, choices=Channel.choices)
    raw_text = models.TextField(_("原始内容"))
    received_at = models.DateTimeField(_("收到时间"))
    sentiment = models.CharField(_("情绪"), max_length=10, choices=Sentiment.choices, blank=True)
    importance = models.PositiveSmallIntegerField(
        _("重要度（0–3）"), default=1, validators=[MinValueValidator(0), MaxValueValidator(3)]
    )
    requirement = models.ForeignKey(
        Requirement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_items",
        verbose_name=_("所属需求"),
    )
    # Linked by someone who may not see the requirement (a vote for a duplicate outside their scope,
    # requirements.dedup.services): it counts for the requirement but opens it to no one (permissions).
    scope_vote = models.BooleanField(
        _("范围外投票"),
        default=False,
        editable=False,
        help_text=_("由看不到该需求的人作为投票关联，不因此让其看到该需求"),
    )
    interaction = models.ForeignKey(
        "customers.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("来源互动"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    # Initial classification of the raw words (需求类型 / 初步标签), set by hand or by accepting a suggestion;
    # carried into the requirement created from this feedback.
    type = models.ForeignKey(
        ClassOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.TYPE},
        verbose_name=_("需求类型"),
    )
    tags = models.ManyToManyField(
        ClassOption,
        blank=True,
        related_name="+",
        limit_choices_to={"dimension": Dimension.TAG},
        verbose_name=_("初步标签"),
    )

    class Meta:
        verbose_name = _("反馈")
        verbose_name_plural = _("反馈")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["requirement", "customer"], name="feedback_req_customer_idx"),
            models.Index(fields=["customer", "-received_at"], name="feedback_customer_idx"),
            # The feedback list's order (Meta.ordering): the newest page without sorting every item.
            models.Index(fields=["received_at", "id"], name="feedback_received_idx"),
            # The demand ranking (analysis.selectors.demand_ranking) reads every live vote: (requirement,
            # customer, importance) from this index alone, a customer's votes together (its value tier is read
            # once per customer, not once per vote). SQLite: 160 ms instead of 195 ms at 122,000 feedback.
            # Opt-in: the condition always holds (the column's check), so only a query that says it can use
            # the index. Without it, SQLite (before ANALYZE had seen the index) took the index for
            # "customer IN (…) AND requirement IN (…)" and probed every pair of the two lists.
            models.Index(
                fields=["customer", "requirement", "importance", "deleted_at"],
                condition=Q(importance__gte=0),
                name="feedback_demand_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.raw_text[:40]


class StatusChange(models.Model):
    """One recorded transition: who moved which requirement from what to what, when, and why."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="status_changes")
    source = models.ForeignKey(
        WorkflowStatus,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("原状态"),
    )
    target = models.ForeignKey(WorkflowStatus, on_delete=models.PROTECT, related_name="+", verbose_name=_("新状态"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    note = models.CharField(_("备注"), max_length=NOTE_MAX_LENGTH, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["-at", "-id"]
        indexes = [
            # A requirement's moves in time order with their targets (first launch / close, time in a status).
            models.Index(fields=["requirement", "at", "target"], name="statuschange_req_at_idx"),
            # Moves into some statuses within a period (launched in the period).
            models.Index(fields=["target", "at"], name="statuschange_target_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id}: {self.source} → {self.target}"


class Comment(models.Model):
    """A comment on a requirement; @username mentions notify the mentioned users."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("内容"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.requirement_id}/{filename}"


class Attachment(models.Model):
    """A file attached to a requirement (size and type limited by settings)."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=_attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class RequirementMerge(models.Model):
    """One merge (去重合并): which requirements went into the survivor, and what moved, so an admin can undo it."""

    survivor = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="merges", verbose_name=_("保留需求")
    )
    merged = models.ManyToManyField(Requirement, related_name="+", verbose_name=_("被合并需求"))
    # What moved, by relation: {"feedback": [ids], "comments": [ids], "attachments": [ids], "watchers": [user ids]}.
    moved = models.JSONField(default=dict, blank=True)
    note = models.CharField(_("说明"), max_length=NOTE_MAX_LENGTH, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("操作人")
    )
    created_at = models.DateTimeField(_("合并时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤销人"),
    )

    class Meta:
        verbose_name = _("需求合并记录")
        verbose_name_plural = _("需求合并记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"merge into {self.survivor_id}"


class RequirementEmbedding(models.Model):
    """A requirement's sentence embedding for duplicate detection (查重), computed once and shared by every
    process (``requirements.dedup``). ``text_hash`` identifies the text (and encoder) it was computed from:
    a row whose hash no longer matches is recomputed. No database constraint: vectors are written
    best-effort outside the callers' transactions, and a row left behind by a deleted requirement is ignored."""

    requirement = models.OneToOneField(
        Requirement,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    text_hash = models.BigIntegerField()
    vector = models.BinaryField()  # 512 × float16, little-endian, L2-normalised

    def __str__(self) -> str:
        return f"embedding of {self.requirement_id}"


class ClassificationRuleVersion(models.Model):
    """One version of the classification rules (分类规则): every change to an option list makes the next one.

    A requirement keeps the number current when it was classified (``Requirement.rule_version``).
    """

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    summary = models.CharField(_("变更说明"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("分类规则版本")
        verbose_name_plural = _("分类规则版本")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class ClassificationReview(models.Model):
    """An admin confirmed that the classification rules still fit (每季度复核分类规则)."""

    rule_version = models.PositiveIntegerField(_("复核时的规则版本"))
    note = models.CharField(_("复核说明"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("复核人"),
    )
    reviewed_at = models.DateTimeField(_("复核时间"), default=timezone.now)

    class Meta:
        verbose_name = _("分类规则复核")
        verbose_name_plural = _("分类规则复核")
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"review of v{self.rule_version}"


class ClassificationReminder(models.Model):
    """The quarterly reminder to review the rules, sent at most once per quarter (``quarter`` like 2026Q4)."""

    quarter = models.CharField(_("季度"), max_length=7, unique=True)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("通知人数"), default=0)

    class Meta:
        verbose_name = _("分类规则复核提醒")
        verbose_name_plural = _("分类规则复核提醒")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.quarter
