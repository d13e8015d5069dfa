"""Vendor stand-ins: Slack, ClickUp, Stripe, Topline admin and Mailfold on one local server.

Each vendor is a Flask blueprint mounted under `/<vendor>` that speaks the vendor's wire
format (see shared/api-reference.md), keeps state in memory, and has every call appended
to `calls.jsonl`. Clients reach them by setting their base URL to this server.
"""
