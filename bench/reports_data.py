"""The data the reports benchmark counts: N requirements with everything a dashboard figure reads.

``load(n, …)`` writes, with explicit ids and one bulk statement per table and chunk (``executemany`` on SQLite,
``COPY`` on PostgreSQL), a pool shaped like a team's three years of work:

- 8 teams, ~50 users (product managers owning most requirements, sales and service reps in teams, an admin);
- ~20,000 customers (segment, industry, value tier, owned by sales reps, a few unowned), one or two contacts;
- requirements submitted over ~3 years, older ones in the 评审流程 (reviewed flow), newer in the standard one,
  statuses spread over every category, each with the status-change rows of its path (submission, first
  response, launch, close …), the first-response SLA (due, responded, breached), type / urgency / nature /
  source / category / priority / customer value, a few merged and deleted;
- feedback links (one per requirement, ~15 % with several customers) over channels and sentiments, 1–2 tags
  out of ~25 themes;
- CSAT invitations after launch (some answered, 1–5), quarterly NPS campaigns (0–10), effect evaluations of
  launches (met, ease, complaint drop, repurchase / renewal / referral), delivery plans with tasks (some
  overdue).

The same seed gives the same rows; a marker table (``bench_reports_marker``) records what was loaded, so a
second run reuses it. Rows are written as the services would leave them, not through the services (a
million ``requirement_create`` calls would take hours): this is benchmark data, not a migration path.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MARKER = "bench_reports_marker"
DAY = 86400.0
YEARS = 3

TEAMS = ("销售一部", "销售二部", "销售三部", "大客户部", "客服部", "产品部", "研发部", "市场部")
EXTRA_TAGS = (
    ("report_export", "报表导出"),
    ("mobile_app", "移动端"),
    ("approval_flow", "审批流程"),
    ("erp_integration", "ERP 对接"),
    ("permission", "权限管理"),
    ("invoice", "发票"),
    ("logistics", "物流时效"),
    ("inventory", "库存预警"),
    ("membership", "会员等级"),
    ("discount", "批量折扣"),
    ("data_import", "数据导入"),
    ("notification", "消息提醒"),
    ("dashboard", "数据看板"),
    ("search", "搜索"),
    ("performance", "页面性能"),
    ("security", "账号安全"),
    ("training", "培训服务"),
    ("contract", "电子合同"),
    ("api", "开放接口"),
    ("custom_field", "自定义字段"),
)
TITLES = (
    "希望支持批量导出报表",
    "审批流程过长，希望简化",
    "移动端需要离线查看",
    "与 ERP 系统对接订单数据",
    "库存不足时自动提醒",
    "会员等级权益不清楚",
    "配送时效需要更准确",
    "发票开具速度太慢",
    "希望增加自定义字段",
    "页面加载太慢",
    "权限需要按部门设置",
    "希望提供开放接口",
)
VOICES = ("客户反映操作不方便", "电话里提到希望尽快上线", "问卷中多次提到", "工单反馈", "拜访时提出")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Plan:
    """Where a requirement goes: the status keys of its path, chosen by age."""

    keys: tuple[str, ...]
    weight: float


# Paths through each flow (status keys from the initial one), with weights by age of the requirement.
STANDARD_PATHS = {
    "new": ("new",),
    "in_progress": ("new", "in_progress"),
    "testing": ("new", "in_progress", "testing"),
    "launched": ("new", "in_progress", "testing", "launched"),
    "closed": ("new", "in_progress", "testing", "launched", "closed"),
    "closed_rejected": ("new", "rejected", "closed"),
    "deferred": ("new", "deferred"),
    "deferred_late": ("new", "in_progress", "deferred"),
    "rejected": ("new", "rejected"),
    "rejected_late": ("new", "in_progress", "rejected"),
}
REVIEWED_PATHS = {
    "new": ("to_analyse",),
    "in_progress": ("to_analyse", "in_review", "developing"),
    "testing": ("to_analyse", "in_review", "developing", "testing"),
    "launched": ("to_analyse", "in_review", "developing", "testing", "launched"),
    "closed": ("to_analyse", "in_review", "developing", "testing", "launched", "closed"),
    "closed_rejected": ("to_analyse", "rejected", "closed"),
    "deferred": ("to_analyse", "deferred"),
    "deferred_late": ("to_analyse", "in_review", "deferred"),
    "rejected": ("to_analyse", "rejected"),
    "rejected_late": ("to_analyse", "in_review", "rejected"),
}
# weights per age band: < 14 days, < 90 days, older
PATH_WEIGHTS = {
    "new": (60, 18, 4),
    "in_progress": (20, 20, 5),
    "testing": (6, 10, 3),
    "launched": (2, 14, 18),
    "closed": (0, 18, 50),
    "closed_rejected": (0, 2, 5),
    "deferred": (4, 5, 4),
    "deferred_late": (1, 3, 3),
    "rejected": (5, 6, 5),
    "rejected_late": (2, 4, 3),
}
# Days a move takes after the previous one, (low, high), by target key.
MOVE_DAYS = {
    "in_progress": (0.2, 4),
    "in_review": (0.2, 4),
    "developing": (1, 10),
    "testing": (2, 30),
    "launched": (1, 14),
    "closed": (3, 30),
    "deferred": (1, 20),
    "rejected": (0.5, 10),
    "new": (1, 5),
    "to_analyse": (1, 5),
}
RESPONSE_MEAN_HOURS = {"urgent": 14.0, "important": 40.0, "normal": 80.0}


@dataclass
class Ids:
    """The next free id of each table (rows are written with explicit ids)."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str, count: int = 1) -> int:
        first = self.next[table]
        self.next[table] = first + count
        return first


class Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany on SQLite; times converted per database."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        from django.utils import timezone

        offset = timezone.get_current_timezone().utcoffset(dt.datetime(2025, 1, 1))
        self.local_offset = offset.total_seconds() if offset is not None else 0.0

    def ts(self, t: float | None) -> Any:
        """A stored timestamp from epoch seconds (UTC)."""
        if t is None:
            return None
        if self.postgres:
            return dt.datetime.fromtimestamp(int(t), dt.UTC)
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t)))

    def day(self, t: float) -> Any:
        """The local calendar day of epoch seconds ``t``."""
        value = dt.date(1970, 1, 1) + dt.timedelta(days=int((t + self.local_offset) // DAY))
        return value if self.postgres else value.isoformat()

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"
                for start in range(0, len(rows), 5000):
                    cursor.executemany(sql, rows[start : start + 5000])


def table_defaults(model: Any, given: Sequence[str], writer: Writer) -> tuple[list[str], tuple[Any, ...]]:
    """The columns of ``model`` not in ``given`` and the value each gets (its default, None or ''), so every
    NOT NULL column is written; refuses a column with no default."""
    columns: list[str] = []
    values: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.column in given:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.empty_strings_allowed and f.blank:
            value = ""
        else:
            raise ValueError(f"{model._meta.db_table}.{f.column} needs a value")
        columns.append(f.column)
        values.append(f.get_db_prep_save(value, writer.connection) if value not in (None, "") else value)
    return columns, tuple(values)


class Loader:
    def __init__(self, *, requirements: int, customers: int, seed: int, chunk: int = 20_000) -> None:
        from django.utils import timezone

        self.n = requirements
        self.n_customers = max(20, customers)
        self.seed = seed
        self.chunk = chunk
        self.rng = random.Random(seed)
        self.writer = Writer()
        self.now = float(int(timezone.now().timestamp()))
        self.start = self.now - YEARS * 365 * DAY
        self.ids = Ids()

    # ------------------------------------------------------------------ setup rows (ORM, few)

    def setup(self) -> None:
        from needpool.accounts.models import Team, User
        from needpool.accounts.roles import Role
        from needpool.requirements.models import ClassOption, Workflow, WorkflowStatus

        teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]
        by_name = {t.name: t for t in teams}
        people: list[tuple[str, str, str, Team | None]] = [("bench_admin", Role.ADMIN, "基准管理员", None)]
        people.append(("bench_manager", Role.MANAGER, "基准经理", by_name["产品部"]))
        for i in range(1, 15):
            team = by_name["产品部"] if i <= 10 else by_name["研发部"]
            people.append((f"bench_pm_{i:02d}", Role.PRODUCT_MANAGER, f"产品经理{i:02d}", team))
        sales_teams = ("销售一部", "销售二部", "销售三部", "大客户部")
        for i in range(1, 25):
            people.append((f"bench_sales_{i:02d}", Role.SALES, f"销售{i:02d}", by_name[sales_teams[(i - 1) % 4]]))
        for i in range(1, 9):
            people.append((f"bench_service_{i:02d}", Role.SERVICE, f"客服{i:02d}", by_name["客服部"]))
        for i in range(1, 3):
            people.append((f"bench_market_{i:02d}", Role.VIEWER, f"市场{i:02d}", by_name["市场部"]))
        self.users: dict[str, User] = {}
        for username, role, display, team in people:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, role=role, display_name=display, team=team)
                user.set_unusable_password()
                user.save()
            self.users[username] = user
        self.admin = self.users["bench_admin"]
        self.pms = [u.pk for name, u in self.users.items() if name.startswith("bench_pm_")]
        self.sales = [u.pk for name, u in self.users.items() if name.startswith("bench_sales_")]
        self.service = [u.pk for name, u in self.users.items() if name.startswith("bench_service_")]
        self.others = [self.users["bench_manager"].pk, *self.service[:4]]
        for order, (key, label) in enumerate(EXTRA_TAGS, start=100):
            ClassOption.objects.get_or_create(dimension="tag", key=key, defaults={"label": label, "sort_order": order})
        self.options: dict[str, dict[str, ClassOption]] = {}
        for option in ClassOption.objects.filter(is_active=True):
            self.options.setdefault(option.dimension, {})[option.key] = option
        self.statuses: dict[str, dict[str, WorkflowStatus]] = {}
        for status in WorkflowStatus.objects.select_related("workflow"):
            self.statuses.setdefault(status.workflow.key, {})[status.key] = status
        self.flows = {w.key: w for w in Workflow.objects.all()}

    def start_ids(self) -> None:
        from django.db import connection

        tables = (
            "customers_customer",
            "customers_contact",
            "requirements_requirement",
            "requirements_feedback",
            "requirements_requirement_tags",
            "requirements_statuschange",
            "loop_surveyinvitation",
            "evaluation_evaluation",
            "delivery_plan",
            "delivery_plan_requirements",
            "delivery_task",
        )
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self.ids.next[table] = cursor.fetchone()[0] + 1

    # ------------------------------------------------------------------ customers

    def customers(self) -> None:
        from needpool.customers.choices import FollowStatus, Segment, ValueTier
        from needpool.customers.models import Contact, Customer
        from needpool.demo.vocabulary import BRANDS, CITIES, INDUSTRIES

        rng, w = self.rng, self.writer
        given = [
            "id",
            "code",
            "name",
            "industry",
            "region",
            "value_tier",
            "segment",
            "follow_status",
            "owner_id",
            "yearly_purchase",
            "total_order_amount",
            "created_by_id",
            "created_at",
            "updated_at",
        ]
        rest, constants = table_defaults(Customer, given, w)
        contact_given = ["id", "customer_id", "name", "email", "created_at", "updated_at"]
        contact_rest, contact_constants = table_defaults(Contact, contact_given, w)
        first = self.ids.take("customers_customer", self.n_customers)
        rows, contacts = [], []
        self.customer_ids: list[int] = []
        self.customer_tier: list[str] = []
        self.customer_contacts: list[list[tuple[int, str]]] = []
        industries = [i for i, _s in INDUSTRIES]
        for k in range(self.n_customers):
            pk = first + k
            industry = industries[min(len(industries) - 1, int(len(industries) * rng.random() ** 1.5))]
            yearly = int(rng.lognormvariate(13.6, 1.1)) // 1000 * 1000
            tier = ValueTier.HIGH if yearly >= 1_000_000 else ValueTier.MEDIUM if yearly >= 200_000 else ValueTier.LOW
            segment = rng.choices(
                [Segment.HIGH_VALUE if tier == ValueTier.HIGH else Segment.NORMAL, Segment.POTENTIAL,
                 Segment.CHURN_RISK, Segment.NORMAL],
                weights=[0.6, 0.2, 0.1, 0.1],
            )[0]  # fmt: skip
            owner = rng.choice(self.sales) if rng.random() < 0.95 else None
            created = w.ts(self.start - rng.random() * 365 * DAY)
            rows.append(
                (
                    pk,
                    f"BC{pk:07d}",
                    f"{rng.choice(CITIES)}{rng.choice(BRANDS)}{rng.choice(BRANDS)}{pk}",
                    industry,
                    rng.choice(CITIES),
                    str(tier),
                    str(segment),
                    rng.choice(FollowStatus.values),
                    owner,
                    yearly,
                    yearly * 3,
                    self.admin.pk,
                    created,
                    created,
                    *constants,
                )
            )
            mine = []
            for _i in range(1 if rng.random() < 0.7 else 2):
                cid = self.ids.take("customers_contact")
                email = f"c{cid}@bc{pk}.example.cn"
                contacts.append((cid, pk, f"联系人{cid}", email, created, created, *contact_constants))
                mine.append((cid, email))
            self.customer_ids.append(pk)
            self.customer_tier.append(str(tier))
            self.customer_contacts.append(mine)
        w.insert("customers_customer", given + rest, rows)
        w.insert("customers_contact", contact_given + contact_rest, contacts)
        log(f"customers: {len(rows):,}, contacts: {len(contacts):,}")

    # ------------------------------------------------------------------ requirements

    def requirements(self) -> None:
        from django.db import transaction

        from needpool.delivery.models import Plan as DeliveryPlan
        from needpool.delivery.models import Task
        from needpool.evaluation.models import Evaluation
        from needpool.loop.models import SurveyInvitation
        from needpool.requirements.models import Feedback, Requirement, StatusChange

        rng, w = self.rng, self.writer
        started = time.monotonic()
        offsets = sorted(rng.random() for _i in range(self.n))
        span = self.now - self.start
        switch = self.start + 0.4 * span  # older requirements are in the reviewed flow
        req_given = [
            "id",
            "code",
            "title",
            "expected_date",
            "type_id",
            "urgency_id",
            "nature_id",
            "source_id",
            "category_id",
            "status_id",
            "priority",
            "customer_value",
            "owner_id",
            "created_by_id",
            "submitted_at",
            "first_response_due",
            "first_responded_at",
            "sla_breached",
            "merged_into_id",
            "merged_at",
            "deleted_at",
            "created_at",
            "updated_at",
        ]
        req_rest, req_const = table_defaults(Requirement, req_given, w)
        fb_given = [
            "id",
            "customer_id",
            "contact_id",
            "channel",
            "raw_text",
            "received_at",
            "sentiment",
            "requirement_id",
            "created_by_id",
            "created_at",
            "updated_at",
        ]
        fb_rest, fb_const = table_defaults(Feedback, fb_given, w)
        sc_given = ["id", "requirement_id", "source_id", "target_id", "actor_id", "at"]
        sc_rest, sc_const = table_defaults(StatusChange, sc_given, w)
        inv_given = [
            "id",
            "kind",
            "requirement_id",
            "customer_id",
            "contact_id",
            "email",
            "token_hash",
            "created_at",
            "expires_at",
            "score",
            "answered_at",
        ]
        inv_rest, inv_const = table_defaults(SurveyInvitation, inv_given, w)
        ev_given = [
            "id",
            "requirement_id",
            "launch_id",
            "launched_at",
            "owner_id",
            "due_date",
            "met",
            "ease_of_use",
            "complaint_drop_pct",
            "repurchased",
            "renewed",
            "referred",
            "completed_by_id",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        ev_rest, ev_const = table_defaults(Evaluation, ev_given, w)
        plan_given = ["id", "title", "strategy", "owner_id", "start_date", "end_date", "created_at", "updated_at"]
        plan_rest, plan_const = table_defaults(DeliveryPlan, plan_given, w)
        task_given = [
            "id",
            "plan_id",
            "title",
            "owner_id",
            "start_date",
            "due_date",
            "status",
            "done_at",
            "created_at",
            "updated_at",
        ]
        task_rest, task_const = table_defaults(Task, task_given, w)

        opts = self.options
        types = [opts["type"][k].pk for k in ("function", "function_improvement", "service", "price",
                                                "experience", "bug", "other")]  # fmt: skip
        type_weights = [30, 25, 12, 8, 12, 10, 3]
        urgencies = [("urgent", opts["urgency"]["urgent"].pk, 24), ("important", opts["urgency"]["important"].pk, 72),
                     ("normal", opts["urgency"]["normal"].pk, None)]  # fmt: skip
        natures = [o.pk for o in opts["nature"].values()]
        sources = [opts["source"]["explicit"].pk, opts["source"]["implicit"].pk]
        categories = [o.pk for o in opts["category"].values()]
        tags = [o.pk for o in opts["tag"].values()]
        tag_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(tags))]
        rng.shuffle(tags)
        channels = [
            "website_form", "app_feedback", "social_media", "ecommerce_review", "ticket", "interview", "sales",
            "survey", "focus_group", "industry_event", "after_sales", "usage_data", "internal",
        ]  # fmt: skip
        channel_weights = [10, 12, 4, 5, 18, 4, 20, 6, 1, 2, 10, 4, 4]
        tier_rank = {"high": 3, "medium": 2, "low": 1}
        flows = {
            "standard": (self.statuses["standard"], STANDARD_PATHS),
            "reviewed": (self.statuses["reviewed"], REVIEWED_PATHS),
        }
        path_names = list(PATH_WEIGHTS)
        band_weights = [[PATH_WEIGHTS[p][b] for p in path_names] for b in range(3)]
        owners = self.pms * 5 + self.service + self.sales[:8] + self.others
        creators = self.sales + self.service
        n_customers = len(self.customer_ids)
        launched_keys = {"launched"}

        done = 0
        first_req = self.ids.next["requirements_requirement"]
        while done < self.n:
            block = offsets[done : done + self.chunk]
            reqs, fbs, links, changes, invites, evals, plans, plan_links, tasks = ([] for _i in range(9))
            for offset in block:
                rid = self.ids.take("requirements_requirement")
                submitted = float(int(self.start + offset * span))
                age = (self.now - submitted) / DAY
                band = 0 if age < 14 else 1 if age < 90 else 2
                flow_key = "reviewed" if submitted < switch else "standard"
                statuses, paths = flows[flow_key]
                path = paths[rng.choices(path_names, weights=band_weights[band])[0]]
                ukey, upk, sla_hours = urgencies[rng.choices((0, 1, 2), weights=(15, 35, 50))[0]]
                due = submitted + sla_hours * 3600 if sla_hours else None
                # moves along the path, the first one after the response delay
                moves: list[tuple[str, float]] = []
                at = submitted
                for k, key in enumerate(path[1:]):
                    if k == 0:
                        at += rng.expovariate(1.0 / (RESPONSE_MEAN_HOURS[ukey] * 3600))
                    else:
                        low, high = MOVE_DAYS.get(key, (1, 10))
                        at += rng.uniform(low, high) * DAY
                    if at >= self.now:
                        break
                    moves.append((key, float(int(at))))
                status_key = moves[-1][0] if moves else path[0]
                responded: float | None = moves[0][1] if moves else None
                if responded is None and rng.random() < 0.25:  # answered by a comment, still new
                    comment_at = submitted + rng.expovariate(1.0 / (RESPONSE_MEAN_HOURS[ukey] * 3600))
                    responded = float(int(comment_at)) if comment_at < self.now else None
                breached = bool(due is not None and ((responded is not None and responded > due) or
                                                      (responded is None and due < self.now)))  # fmt: skip
                owner = rng.choice(owners) if rng.random() < 0.97 else None
                creator = rng.choice(creators)
                # evidence: one customer, sometimes two or three
                n_cust = 1 if rng.random() < 0.85 else rng.randint(2, 3)
                picked = {int(n_customers * rng.random() ** 2) for _i in range(n_cust)}
                best = max((self.customer_tier[c] for c in picked), key=tier_rank.__getitem__)
                merged_into = merged_at = deleted_at = None
                if rid > first_req + 100 and rng.random() < 0.01:
                    merged_into = rng.randint(max(first_req, rid - 5000), rid - 1)
                    merged_at = w.ts(min(self.now - 60, submitted + rng.uniform(1, 20) * DAY))
                elif rng.random() < 0.003:
                    deleted_at = w.ts(min(self.now - 60, submitted + rng.uniform(1, 60) * DAY))
                last = moves[-1][1] if moves else submitted
                sub = w.ts(submitted)
                reqs.append(
                    (
                        rid,
                        f"BR{rid:08d}",
                        TITLES[rid % len(TITLES)],
                        w.day(submitted + rng.randint(14, 180) * DAY),
                        rng.choices(types, weights=type_weights)[0],
                        upk,
                        rng.choices(natures, weights=(70, 15, 15))[0],
                        sources[0] if rng.random() < 0.8 else sources[1],
                        rng.choice(categories),
                        statuses[status_key].pk,
                        rng.choices(("", "P0", "P1", "P2", "P3"), weights=(40, 8, 22, 12, 18))[0],
                        best,
                        owner,
                        creator,
                        sub,
                        w.ts(due),
                        w.ts(responded),
                        breached,
                        merged_into,
                        merged_at,
                        deleted_at,
                        sub,
                        w.ts(last),
                        *req_const,
                    )
                )
                for i, c in enumerate(sorted(picked)):
                    received = submitted if i == 0 else min(self.now - 1, submitted + rng.uniform(1, 30) * DAY)
                    contact = rng.choice(self.customer_contacts[c])[0]
                    rec = w.ts(received)
                    fbs.append(
                        (
                            self.ids.take("requirements_feedback"),
                            self.customer_ids[c],
                            contact,
                            rng.choices(channels, weights=channel_weights)[0],
                            VOICES[rid % len(VOICES)],
                            rec,
                            rng.choices(("positive", "neutral", "negative", ""), weights=(12, 45, 33, 10))[0],
                            rid,
                            creator,
                            rec,
                            rec,
                            *fb_const,
                        )
                    )
                first_tag = rng.choices(tags, weights=tag_weights)[0]
                links.append((self.ids.take("requirements_requirement_tags"), rid, first_tag))
                if rng.random() < 0.3:
                    second = rng.choice(tags)
                    if second != first_tag:
                        links.append((self.ids.take("requirements_requirement_tags"), rid, second))
                # status history: the submission, then each move
                changes.append((self.ids.take("requirements_statuschange"), rid, None, statuses[path[0]].pk,
                                creator, sub, *sc_const))  # fmt: skip
                source = statuses[path[0]].pk
                actor = owner or rng.choice(self.pms)
                launch_at: float | None = None
                for key, moved in moves:
                    scid = self.ids.take("requirements_statuschange")
                    changes.append((scid, rid, source, statuses[key].pk, actor, w.ts(moved), *sc_const))
                    source = statuses[key].pk
                    if key in launched_keys:
                        launch_at = moved
                        evals.append(self._evaluation(scid, rid, moved, actor, ev_const))
                if launch_at is not None and rng.random() < 0.6:
                    c = min(picked)
                    cid, email = self.customer_contacts[c][0]
                    sent = launch_at + 3600
                    score = answered = None
                    if sent < self.now - DAY and rng.random() < 0.45:
                        answered = min(self.now - 60, sent + rng.uniform(0.05, 10) * DAY)
                        score = rng.choices((1, 2, 3, 4, 5), weights=(5, 8, 17, 35, 35))[0]
                    iid = self.ids.take("loop_surveyinvitation")
                    invites.append((iid, "csat", rid, self.customer_ids[c], cid, email, f"{iid:064x}", w.ts(sent),
                                    w.ts(sent + 30 * DAY), score, w.ts(answered), *inv_const))  # fmt: skip
                if len(moves) >= 2 and rng.random() < 0.15:
                    self._plan(rid, owner or actor, moves, status_key, plans, plan_links, tasks, plan_const, task_const)
            with transaction.atomic():
                w.insert("requirements_requirement", req_given + req_rest, reqs)
                w.insert("requirements_feedback", fb_given + fb_rest, fbs)
                w.insert("requirements_requirement_tags", ("id", "requirement_id", "classoption_id"), links)
                w.insert("requirements_statuschange", sc_given + sc_rest, changes)
                w.insert("loop_surveyinvitation", inv_given + inv_rest, invites)
                w.insert("evaluation_evaluation", ev_given + ev_rest, evals)
                w.insert("delivery_plan", plan_given + plan_rest, plans)
                w.insert("delivery_plan_requirements", ("id", "plan_id", "requirement_id"), plan_links)
                w.insert("delivery_task", task_given + task_rest, tasks)
            done += len(block)
            elapsed = time.monotonic() - started
            log(f"requirements: {done:,}/{self.n:,} ({done / max(elapsed, 1e-6):,.0f}/s, {elapsed:,.0f} s)")

    def _evaluation(self, scid: int, rid: int, launched: float, owner: int, const: tuple[Any, ...]) -> tuple[Any, ...]:
        rng, w = self.rng, self.writer
        due = launched + 14 * DAY
        met = ease = drop = repurchased = renewed = referred = completed_by = completed = None
        if due < self.now and rng.random() < 0.75:
            completed = min(self.now - 60, due + rng.uniform(-5, 10) * DAY)
            met = rng.choices(("yes", "partly", "no"), weights=(60, 25, 15))[0]
            ease = rng.choices((1, 2, 3, 4, 5), weights=(3, 7, 25, 40, 25))[0]
            if rng.random() < 0.5:
                drop = round(rng.uniform(-10, 60), 1)
            repurchased, renewed, referred = (None if rng.random() < 0.5 else rng.random() < p for p in (0.4, 0.6, 0.2))
            completed_by = owner
        return (
            self.ids.take("evaluation_evaluation"),
            rid,
            scid,
            w.ts(launched),
            owner,
            w.day(due),
            met or "",
            ease,
            drop,
            repurchased,
            renewed,
            referred,
            completed_by,
            w.ts(completed),
            w.ts(launched),
            w.ts(completed or launched),
            *const,
        )

    def _plan(
        self,
        rid: int,
        owner: int,
        moves: list[tuple[str, float]],
        status_key: str,
        plans: list[tuple[Any, ...]],
        plan_links: list[tuple[Any, ...]],
        tasks: list[tuple[Any, ...]],
        plan_const: tuple[Any, ...],
        task_const: tuple[Any, ...],
    ) -> None:
        rng, w = self.rng, self.writer
        start = moves[0][1]
        end = start + rng.uniform(14, 60) * DAY
        pid = self.ids.take("delivery_plan")
        created = w.ts(start)
        plans.append((pid, f"落地计划 {rid}", "product_iteration", owner, w.day(start), w.day(end), created, created,
                      *plan_const))  # fmt: skip
        plan_links.append((self.ids.take("delivery_plan_requirements"), pid, rid))
        finished = status_key in ("launched", "closed")
        for k in range(rng.randint(2, 4)):
            t_start = start + k * rng.uniform(2, 10) * DAY
            t_due = t_start + rng.uniform(3, 20) * DAY
            if finished or (t_due < self.now - 30 * DAY and rng.random() < 0.8):
                status, done_at = "done", min(self.now - 60, t_due + rng.uniform(-2, 5) * DAY)
            else:
                status, done_at = rng.choices(("todo", "doing", "blocked", "done"), weights=(35, 40, 10, 15))[0], None
                if status == "done":
                    done_at = min(self.now - 60, t_start + DAY)
            tasks.append((self.ids.take("delivery_task"), pid, f"任务 {k + 1}", owner, w.day(t_start), w.day(t_due),
                          status, w.ts(done_at), created, created, *task_const))  # fmt: skip

    # ------------------------------------------------------------------ NPS campaigns

    def nps(self) -> None:
        from needpool.loop.models import NpsCampaign, SurveyInvitation

        rng, w = self.rng, self.writer
        given = ["id", "kind", "campaign_id", "customer_id", "contact_id", "email", "token_hash", "created_at",
                 "expires_at", "score", "answered_at"]  # fmt: skip
        rest, const = table_defaults(SurveyInvitation, given, w)
        contacts = [
            (self.customer_ids[i], cid, email) for i, cs in enumerate(self.customer_contacts) for cid, email in cs
        ]
        per_campaign = min(len(contacts), 3000)
        rows = []
        for q in range(YEARS * 4):
            sent = self.start + (q + 0.5) * 91 * DAY
            if sent >= self.now - DAY:
                break
            campaign = NpsCampaign.objects.create(
                name=f"NPS 第{q + 1}季度",
                status=NpsCampaign.Status.SENT,
                started_at=dt.datetime.fromtimestamp(sent, dt.UTC),
            )
            for customer, cid, email in rng.sample(contacts, per_campaign):
                score = answered = None
                if rng.random() < 0.35:
                    answered = min(self.now - 60, sent + rng.uniform(0.1, 20) * DAY)
                    score = rng.choices(range(11), weights=(2, 1, 1, 2, 3, 5, 8, 14, 20, 24, 20))[0]
                iid = self.ids.take("loop_surveyinvitation")
                rows.append((iid, "nps", campaign.pk, customer, cid, email, f"{iid:064x}", w.ts(sent),
                             w.ts(sent + 30 * DAY), score, w.ts(answered), *const))  # fmt: skip
        w.insert("loop_surveyinvitation", given + rest, rows)
        log(f"NPS invitations: {len(rows):,}")

    # ------------------------------------------------------------------ the whole load

    def finish(self) -> None:
        """Sequences past the explicit ids (PostgreSQL), statistics for the planner."""
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                models = [m for m in apps.get_models(include_auto_created=True)]
                for sql in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(sql)


def marker_read(connection: Any) -> tuple[int, int, float] | None:
    with connection.cursor() as cursor:
        try:
            cursor.execute(f"SELECT requirements, seed, loaded_at FROM {MARKER}")
        except Exception:
            return None
        row = cursor.fetchone()
    return (int(row[0]), int(row[1]), float(row[2])) if row else None


def load(*, requirements: int, customers: int, seed: int, progress: Callable[[str], None] = log) -> float:
    """Load the data into the current (migrated, empty) database; returns the anchor time ("now") of the data."""
    from django.db import connection, transaction

    loader = Loader(requirements=requirements, customers=customers, seed=seed)
    loader.setup()
    loader.start_ids()
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers while loading
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
    try:
        with transaction.atomic():
            loader.customers()
        loader.requirements()
        with transaction.atomic():
            loader.nps()
        loader.finish()
    finally:
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER} (requirements integer, seed integer, loaded_at double precision)")
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, %s)", [requirements, seed, loader.now])
    return loader.now


def analyze(connection: Any) -> None:
    """Planner statistics, as a deployment's periodic ``PRAGMA optimize`` / autovacuum gives them."""
    if connection.vendor == "postgresql":
        old = connection.autocommit
        connection.set_autocommit(True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.set_autocommit(old)
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
