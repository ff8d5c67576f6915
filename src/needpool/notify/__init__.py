"""Notifications: typed events every app emits, delivered to the people and places that should hear of them.

An app calls ``notify.services.emit`` inside its write transaction with one ``EventKind``, the users concerned
(owner, watchers, mentioned, …), the teams concerned and an idempotency key for the occurrence. The event is
stored; in-app notices are written in the same transaction (so a rolled-back change tells nobody); every other
channel — mail, the user's IM bot, the teams' IM routes, outbound webhooks — becomes one ``Delivery`` per
target, sent by the worker after commit, retried with backoff and logged. The person who made the change is
never told. Each user picks per kind which channels they want (``Preference``); the daily digest gathers the
kinds they chose to read only there.

Other parts plug in through ``registry``: a *target source* names extra targets for an event (a team's
飞书 / 钉钉 / 企业微信 bot, a webhook endpoint), a *sender* sends one delivery of its target kind.
"""
