"""Generated volume: realistic Chinese customers and requirements in bulk, for demos and the benchmark.

``generate`` creates them for demos and the benchmark (``bench/``). It does *not* call the
per-row services: one ``requirement_create`` runs about ten statements (code counter, insert,
feedback, customer value, status change, audit …), which is minutes for ten thousand rows and
hours for a million. Instead it writes the same rows the services would write with
``bulk_create`` in chunks, each chunk in one transaction:

- codes come from contiguous blocks reserved on the same ``CodeSequence`` counters that
  ``core.codes.next_code`` advances, so codes handed out later by the services never collide;
  codes already taken (entered by hand, imported) are skipped, as ``next_code`` does;
- ``search_text`` is exactly ``core.text.segment_for_index`` of the same fields: texts are built
  from fragments that end in punctuation, jieba never joins words across punctuation, so the
  segmentation of each fragment is computed once and reused (jieba is the slow part);
- every requirement has its evidence (feedback rows linking customers and contacts), its
  ``customer_value`` (the best tier among those customers), ``first_response_due`` from the
  urgency's SLA hours, a status spread over the active workflow with the status-change rows of
  an allowed path to it, and the audit rows of its creation and transitions.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.audit import _plain, snapshot
from needpool.core.codes import codes_block
from needpool.core.config import site_config
from needpool.core.models import AuditEntry
from needpool.customers.choices import FollowStatus, Segment, ValueTier
from needpool.customers.models import Contact, Customer
from needpool.customers.services import CUSTOMER_FIELDS
from needpool.demo.bulk import (
    Evidence,
    GenerateResult,
    PoolCustomer,
    explicit_timestamps,
    insert_many,
    plan_statuses,
    taken_customer_codes,
    taken_requirement_codes,
    weighted,
)
from needpool.demo.users import DEMO_PM, DEMO_SALES, demo_users_ensure
from needpool.demo.vocabulary import (
    AREA_CODES,
    BRANDS,
    CITIES,
    GIVEN,
    INDUSTRIES,
    MODULES,
    SURNAMES,
    TITLES,
    Segmenter,
    requirement_texts,
    sts_sentences,
)
from needpool.requirements.choices import Channel, Priority, Sentiment
from needpool.requirements.models import ClassOption, Feedback, Requirement, StatusChange, WorkflowStatus
from needpool.requirements.services import EDITABLE_FIELDS, active_workflow, sla_due

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class VolumeGenerator:
    """Bulk customers and requirements of the same shape the services write (see the module docstring)."""

    def __init__(
        self,
        *,
        users: dict[str, User],
        seed: int | None = None,
        days: int = 730,
        chunk: int = 5000,
        progress: Progress | None = _stderr,
    ) -> None:
        self.rng = random.Random(seed)
        self.pm = users[DEMO_PM]
        self.sales = users[DEMO_SALES]
        self.days = max(1, days)
        self.chunk = max(100, chunk)
        self.progress = progress or (lambda _m: None)
        self.seg = Segmenter()
        self.sentences = sts_sentences()
        self.config = site_config()
        self.options: dict[str, dict[str, ClassOption]] = {}
        for option in ClassOption.objects.filter(is_active=True):
            self.options.setdefault(option.dimension, {})[option.key] = option
        self.audited = ("code", *EDITABLE_FIELDS)
        self._labels: dict[tuple[type, Any], Any] = {}
        self.requirement_ct = ContentType.objects.get_for_model(Requirement)
        self.customer_ct = ContentType.objects.get_for_model(Customer)
        plan = plan_statuses(active_workflow())
        self.initial = plan.initial
        self.status_paths = plan.paths
        self.status_weights = plan.weights
        self.young_weights = plan.young_weights

    # ---------------------------------------------------------- customers

    def customers(self, count: int) -> list[PoolCustomer]:
        """Create ``count`` customers (each with one or two contacts and their audit rows)."""
        pool: list[PoolCustomer] = []
        now = timezone.now()
        today = timezone.localdate()
        high, medium = self.config.value_tier_high, self.config.value_tier_medium
        started = time.monotonic()
        # Customers came in over the year(s) before the generated requirements, oldest first; each
        # gets its code from the counter of the year it was created in, as customer_create does.
        span = 365 * 86400.0
        ages = sorted((self.days * 86400.0 + self.rng.random() * span for _i in range(count)), reverse=True)
        done = 0
        while done < count:
            created = [now - dt.timedelta(seconds=a) for a in ages[done : done + self.chunk]]
            with transaction.atomic(), explicit_timestamps(Customer, Contact):
                codes = self._codes_by_day(
                    created, site_config().customer_code_pattern, "customer", taken_customer_codes
                )
                rows = [
                    self._customer_row(code, at, today, high, medium) for code, at in zip(codes, created, strict=True)
                ]
                Customer.objects.bulk_create(rows)
                contacts: list[Contact] = []
                for customer in rows:
                    contacts.extend(self._contact_rows(customer))
                Contact.objects.bulk_create(contacts)
                audits = [
                    AuditEntry(
                        content_type=self.customer_ct,
                        object_id=c.pk,
                        object_repr=str(c)[:200],
                        action=AuditEntry.Action.CREATE,
                        actor=self.sales,
                        at=c.created_at,
                        changes={k: _plain(v) for k, v in snapshot(c, ("code", *CUSTOMER_FIELDS)).items()},
                    )
                    for c in rows
                ] + [
                    AuditEntry(
                        content_type=self.customer_ct,
                        object_id=ct.customer_id,
                        object_repr=str(ct.customer)[:200],
                        action=AuditEntry.Action.CREATE,
                        actor=self.sales,
                        at=ct.created_at,
                        changes={"contact": ct.name},
                    )
                    for ct in contacts
                ]
                with explicit_timestamps(AuditEntry):
                    AuditEntry.objects.bulk_create(audits)
            by_customer: dict[int, PoolCustomer] = {}
            for customer in rows:
                by_customer[customer.pk] = PoolCustomer(customer.pk, customer.value_tier)
                pool.append(by_customer[customer.pk])
            for contact in contacts:
                by_customer[contact.customer_id].contacts.append(contact.pk)
            done += len(rows)
            self._report("客户 customers", done, count, started)
        return pool

    def _codes_by_day(
        self, times: list[dt.datetime], pattern: str, namespace: str, taken: Callable[[list[str]], set[str]]
    ) -> list[str]:
        """One fresh code per time (ascending), each from the counter of its local day."""
        days = [timezone.localtime(t).date() for t in times]
        codes: list[str] = []
        start = 0
        while start < len(days):
            end = bisect.bisect_right(days, days[start], lo=start)
            codes += codes_block(pattern=pattern, day=days[start], namespace=namespace, count=end - start, taken=taken)
            start = end
        return codes

    def _customer_row(
        self, code: str, created: dt.datetime, today: dt.date, high: Decimal, medium: Decimal
    ) -> Customer:
        rng = self.rng
        industry, suffix = rng.choice(INDUSTRIES)
        city = rng.choice(CITIES)
        yearly = Decimal(int(rng.lognormvariate(13.6, 1.1)) // 1000 * 1000)
        tier = ValueTier.HIGH if yearly >= high else ValueTier.MEDIUM if yearly >= medium else ValueTier.LOW
        segment = weighted(
            rng,
            (
                (Segment.HIGH_VALUE if tier == ValueTier.HIGH else Segment.NORMAL, 0.6),
                (Segment.POTENTIAL, 0.2),
                (Segment.CHURN_RISK, 0.1),
                (Segment.NORMAL, 0.1),
            ),
        )
        first_coop = created.date() + dt.timedelta(days=rng.randint(0, 60))
        follow = today + dt.timedelta(days=rng.randint(-20, 45)) if rng.random() < 0.7 else None
        products = "、".join(rng.sample(MODULES, rng.randint(1, 3)))
        return Customer(
            code=code,
            name=f"{city}{rng.choice(BRANDS)}{rng.choice(BRANDS)}{suffix}",
            industry=industry,
            region=city,
            employees=int(rng.lognormvariate(5.5, 1.2)) + 5,
            annual_revenue=yearly * rng.randint(20, 200),
            founded=dt.date(rng.randint(1990, 2020), rng.randint(1, 12), rng.randint(1, 28)),
            main_business=f"{industry}相关业务",
            first_cooperation=first_coop,
            products_bought=products,
            total_order_amount=yearly * rng.randint(1, 5),
            yearly_purchase=yearly,
            value_tier=tier,
            segment=segment,
            follow_status=rng.choice(FollowStatus.values),
            next_follow_up=follow,
            owner=self.sales if rng.random() < 0.85 else None,
            tags=industry,
            created_by=self.sales,
            created_at=created,
            updated_at=created,
        )

    def _contact_rows(self, customer: Customer) -> list[Contact]:
        rng = self.rng
        rows = []
        area = AREA_CODES.get(customer.region, "010")
        slug = customer.code.lower()
        for _i in range(rng.choice((1, 1, 2))):
            surname, pinyin = rng.choice(SURNAMES)
            title, role = rng.choice(TITLES)
            local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _d in range(7))
            rows.append(
                Contact(
                    customer=customer,
                    name=surname + rng.choice(GIVEN),
                    title=title,
                    phone=f"{area}-{local}",
                    email=f"{pinyin}{rng.randint(1, 999)}@{slug}.com.cn",
                    decision_role=role,
                    created_at=customer.created_at,
                    updated_at=customer.created_at,
                )
            )
        return rows

    def existing_customers(self, limit: int = 100_000) -> list[PoolCustomer]:
        pool = {
            pk: PoolCustomer(pk, tier)
            for pk, tier in Customer.objects.order_by("-id").values_list("pk", "value_tier")[:limit]
        }
        for contact_pk, customer_pk in Contact.objects.filter(customer_id__in=list(pool)).values_list(
            "pk", "customer_id"
        ):
            pool[customer_pk].contacts.append(contact_pk)
        return list(pool.values())

    # ---------------------------------------------------------- requirements

    def requirements(self, count: int, pool: list[PoolCustomer]) -> GenerateResult:
        """Create ``count`` requirements over the last ``days`` days, oldest first, from customers in ``pool``."""
        result = GenerateResult()
        if count <= 0:
            return result
        if not pool:
            raise ValueError("no customers to attach generated requirements to")
        rng = self.rng
        now = timezone.now()
        span = self.days * 86400.0
        # Oldest first, so ids follow submission order and a chunk touches few code prefixes.
        offsets = sorted((rng.random() * span for _i in range(count)), reverse=True)
        pattern = self.config.requirement_code_pattern
        industries = [i for i, _s in INDUSTRIES]
        tier_rank: dict[str, int] = {ValueTier.HIGH: 3, ValueTier.MEDIUM: 2, ValueTier.LOW: 1}
        started = time.monotonic()
        done = 0
        while done < count:
            chunk_offsets = offsets[done : done + self.chunk]
            submitted = [now - dt.timedelta(seconds=o) for o in chunk_offsets]
            with transaction.atomic(), explicit_timestamps(Requirement, Feedback, StatusChange, AuditEntry):
                codes = self._codes_by_day(submitted, pattern, "requirement", taken_requirement_codes)
                rows: list[Requirement] = []
                extras: list[Evidence] = []
                for code, at in zip(codes, submitted, strict=True):
                    row, extra = self._requirement_row(code, at, now, pool, industries, tier_rank)
                    rows.append(row)
                    extras.append(extra)
                Requirement.objects.bulk_create(rows)
                self._children(rows, extras, result)
            done += len(rows)
            result.requirements += len(rows)
            if len(result.requirement_codes) < 5:
                result.requirement_codes += [r.code for r in rows[: 5 - len(result.requirement_codes)]]
            self._report("需求 requirements", done, count, started)
        return result

    def _requirement_row(
        self,
        code: str,
        submitted: dt.datetime,
        now: dt.datetime,
        pool: list[PoolCustomer],
        industries: list[str],
        tier_rank: dict[str, int],
    ) -> tuple[Requirement, Evidence]:
        rng = self.rng
        opts = self.options
        text = requirement_texts(rng, rng.choice(industries), self.sentences)
        urgency = opts.get("urgency", {}).get(weighted(rng, (("urgent", 0.15), ("important", 0.35), ("normal", 0.5))))
        age_days = (now - submitted).total_seconds() / 86400
        status_pk = weighted(rng, self.young_weights if age_days < 14 else self.status_weights)
        path = self.status_paths[status_pk]
        # Evidence: one customer, sometimes several (many customers asking for the same thing).
        n_customers = 1 if rng.random() < 0.85 else rng.randint(2, 3)
        customers = [(rng.choice(pool), submitted)]
        for _i in range(n_customers - 1):
            customers.append((rng.choice(pool), submitted + dt.timedelta(hours=rng.uniform(1, 24 * 30))))
        best = max(customers, key=lambda pair: tier_rank.get(pair[0].tier, 0))[0].tier
        due = sla_due(urgency, submitted)
        # The moves along the path, a few hours to days apart.
        history: list[tuple[WorkflowStatus, dt.datetime]] = []
        at = submitted
        for status in path[1:]:
            at = min(now, at + dt.timedelta(hours=rng.uniform(2, 24 * 10)))
            history.append((status, at))
        responded = history[0][1] if history else None
        # Unanswered ones past their deadline are flagged, as the periodic SLA check leaves them.
        breached = bool(due and responded > due) if responded is not None else bool(due and due < now)
        tag_list: list[ClassOption] = []
        if text["tag"] and text["tag"] in opts.get("tag", {}):
            tag_list.append(opts["tag"][text["tag"]])
        if rng.random() < 0.2:
            extra = rng.choice(list(opts.get("tag", {}).values()))
            if extra not in tag_list:
                tag_list.append(extra)
        priority = weighted(
            rng,
            (("", 0.4), (Priority.P0, 0.08), (Priority.P1, 0.22), (Priority.P2, 0.12), (Priority.P3, 0.18)),
        )
        expected = timezone.localtime(submitted).date() + dt.timedelta(days=rng.randint(14, 180))
        description = "".join(text["description"])
        background = "".join(text["background"])
        concrete = "".join(text["concrete"])
        row = Requirement(
            code=code,
            title=text["title"],
            description=description,
            background=background,
            concrete_ask=concrete,
            expected_date=expected,
            type=opts.get("type", {}).get(text["type"]),
            urgency=urgency,
            nature=opts.get("nature", {}).get(
                weighted(rng, (("functional", 0.7), ("emotional", 0.15), ("latent", 0.15)))
            ),
            source=opts.get("source", {}).get(weighted(rng, (("explicit", 0.8), ("implicit", 0.2)))),
            category=opts.get("category", {}).get(text["category"]),
            status=path[-1],
            priority=priority,
            customer_value=best,
            owner=self.pm if rng.random() < 0.75 else self.sales,
            created_by=self.sales,
            submitted_at=submitted,
            first_response_due=due,
            first_responded_at=responded,
            sla_breached=breached,
            search_text=self.seg.index_text(
                code, [text["title"]], text["description"], text["background"], text["concrete"]
            ),
            created_at=submitted,
            updated_at=history[-1][1] if history else submitted,
        )
        return row, Evidence(text["voice"], customers, tag_list, history)

    def _children(self, rows: list[Requirement], extras: list[Evidence], result: GenerateResult) -> None:
        rng = self.rng
        channels = Channel.values
        sentiments = [*Sentiment.values, ""]
        sales_id, pm_id, ct_id = self.sales.pk, self.pm.pk, self.requirement_ct.pk
        initial = self.initial
        feedback: list[Feedback] = []
        tag_links: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        for row, extra in zip(rows, extras, strict=True):
            for pool_customer, received in extra.customers:
                feedback.append(
                    Feedback(
                        customer_id=pool_customer.pk,
                        contact_id=rng.choice(pool_customer.contacts) if pool_customer.contacts else None,
                        channel=rng.choice(channels),
                        raw_text=extra.voice,
                        received_at=received,
                        sentiment=rng.choice(sentiments),
                        requirement_id=row.pk,
                        created_by_id=sales_id,
                        created_at=received,
                        updated_at=received,
                    )
                )
            tag_links.extend((row.pk, t.pk) for t in extra.tags)
            label = str(row)[:200]
            changes.append((row.pk, None, initial.pk, sales_id, "", row.submitted_at))
            created = {name: self._plain(getattr(row, name)) for name in self.audited}
            created["tags"] = _plain([t.label for t in extra.tags])
            audits.append((ct_id, row.pk, label, AuditEntry.Action.CREATE, created, sales_id, row.submitted_at))
            source = initial
            for target, at in extra.history:
                changes.append((row.pk, source.pk, target.pk, pm_id, "", at))
                audits.append(
                    (
                        ct_id,
                        row.pk,
                        label,
                        AuditEntry.Action.TRANSITION,
                        {"status": [self._plain(source), self._plain(target)]},
                        pm_id,
                        at,
                    )
                )
                source = target
        Feedback.objects.bulk_create(feedback)
        insert_many(Requirement.tags.through, ("requirement", "classoption"), tag_links)
        insert_many(StatusChange, ("requirement", "source", "target", "actor", "note", "at"), changes)
        insert_many(
            AuditEntry, ("content_type", "object_id", "object_repr", "action", "changes", "actor", "at"), audits
        )
        result.feedback += len(feedback)

    def _plain(self, value: Any) -> Any:
        """``core.audit._plain``, remembering the text of options, statuses and users (one gettext each)."""
        if isinstance(value, models.Model):
            key = (type(value), value.pk)
            text = self._labels.get(key)
            if text is None:
                text = self._labels[key] = _plain(value)
            return text
        return _plain(value)

    # ---------------------------------------------------------- progress

    def _report(self, what: str, done: int, total: int, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        self.progress(
            f"{what}: {done:,}/{total:,} ({done * 100 // max(total, 1)}%) {done / elapsed:,.0f}/s, {elapsed:,.0f} s"
        )


def generate(
    *,
    requirements: int,
    customers: int | None = None,
    users: dict[str, User] | None = None,
    seed: int | None = None,
    days: int = 730,
    chunk: int = 5000,
    progress: Progress | None = _stderr,
) -> GenerateResult:
    """Generate ``customers`` customers (default max(20, requirements // 5), 0 when no requirements)
    and ``requirements`` requirements attached to them."""
    started = time.monotonic()
    if customers is None:
        customers = max(20, requirements // 5) if requirements > 0 else 0
    generator = VolumeGenerator(
        users=users or demo_users_ensure(), seed=seed, days=days, chunk=chunk, progress=progress
    )
    pool = generator.customers(customers) if customers > 0 else []
    if requirements > 0 and not pool:
        pool = generator.existing_customers()
    result = generator.requirements(requirements, pool)
    result.customers = len(pool) if customers > 0 else 0
    result.contacts = sum(len(c.contacts) for c in pool) if customers > 0 else 0
    result.seconds = time.monotonic() - started
    return result
