"""Slack Web API stand-in: chat.postMessage, conversations.info/list and auth.test.

Speaks Slack's RPC wire format (api-reference.md section 1): every answer is JSON with `ok`,
logical failures are HTTP 200 with `{"ok": false, "error": code}`, throttling is left to the
sandbox's fault injection (429 + Retry-After).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from local.sandbox.app import vendor_state

blueprint = Blueprint("slack", __name__)

TEAM_ID = "T0TOPLINE1"
BOT_USER_ID = "U0SAVEDESK"
BOT_ID = "B0SAVEDESK"
APP_ID = "A0SAVEDESK"
SEED_TOKEN = "xoxb-local-savedesk"  # noqa: S105 - a stand-in token, valid only on loopback

# Slack's documented Block Kit limits; the stand-in enforces them so a message that
# Slack would refuse with invalid_blocks is refused here too.
MAX_TEXT_CHARS = 40_000
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_TEXT_CHARS = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_CHARS = 2_000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT_CHARS = 75


class SlackState:
    """Channels, users, tokens and posted messages of one fake workspace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, str] = {}
        self.tokens: set[str] = set()
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ts_counter = 0

    # -- seed helpers -------------------------------------------------------------------

    def add_channel(
        self,
        id: str,
        name: str,
        is_member: bool = True,
        is_archived: bool = False,
        is_private: bool = False,
    ) -> dict[str, Any]:
        channel = {
            "id": id,
            "name": name,
            "name_normalized": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_general": False,
            "is_member": is_member,
            "created": 1_700_000_000,
            "creator": "U0JOEY0001",
            "num_members": 4,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        with self._lock:
            self.channels[id] = channel
            self._messages.setdefault(id, [])
        return channel

    def add_user(self, id: str, name: str) -> None:
        with self._lock:
            self.users[id] = name

    def add_token(self, token: str) -> None:
        with self._lock:
            self.tokens.add(token)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to a channel id, a channel name, or a user id (its DM), oldest first."""
        with self._lock:
            channel_id = self._resolve(channel)
            return [dict(m) for m in self._messages.get(channel_id or "", [])]

    # -- behaviour ----------------------------------------------------------------------

    def _resolve(self, channel: str) -> str | None:
        """Channel id for an id, a name (with or without '#'), or a user id (its DM). Lock held."""
        if channel in self.channels:
            return channel
        if channel in self.users:
            return _dm_id(channel)
        name = channel.removeprefix("#")
        for channel_id, info in self.channels.items():
            # DMs have no name: an unknown channel must still end in channel_not_found.
            if info.get("name") == name:
                return channel_id
        return None

    def _open_dm(self, user_id: str) -> str:
        """Posting to a user id lands in the bot's DM with that user, created on first use. Lock held."""
        dm_id = _dm_id(user_id)
        if dm_id not in self.channels:
            self.channels[dm_id] = {
                "id": dm_id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "user": user_id,
                "is_user_deleted": False,
                "priority": 0,
            }
            self._messages[dm_id] = []
        return dm_id

    def post(self, channel: str, message: dict[str, Any]) -> tuple[str | None, dict[str, Any] | str]:
        """Store a message; return (channel id, message) or (None, error code)."""
        with self._lock:
            if channel in self.users:
                channel_id = self._open_dm(channel)
            else:
                resolved = self._resolve(channel)
                if resolved is None:
                    return None, "channel_not_found"
                channel_id = resolved
            info = self.channels[channel_id]
            if info.get("is_archived"):
                return None, "is_archived"
            if not info.get("is_im") and not info.get("is_member"):
                # A private channel the bot is not in is invisible to it, as on Slack.
                return None, "channel_not_found" if info.get("is_private") else "not_in_channel"
            self._ts_counter += 1
            ts = f"{int(time.time()):010d}.{self._ts_counter:06d}"
            stored = {**message, "ts": ts}
            thread_ts = message.get("thread_ts")
            if thread_ts:
                for parent in self._messages[channel_id]:
                    if parent["ts"] == thread_ts:
                        parent["reply_count"] = parent.get("reply_count", 0) + 1
                        parent.setdefault("thread_ts", thread_ts)
            self._messages[channel_id].append(stored)
            return channel_id, dict(stored)

    def channel(self, channel: str) -> dict[str, Any] | None:
        with self._lock:
            channel_id = self._resolve(channel)
            return dict(self.channels[channel_id]) if channel_id in self.channels else None

    def list_channels(self, types: set[str], exclude_archived: bool) -> list[dict[str, Any]]:
        with self._lock:
            found = []
            for info in sorted(self.channels.values(), key=lambda c: c["id"]):
                if _channel_type(info) not in types:
                    continue
                if exclude_archived and info.get("is_archived"):
                    continue
                found.append(dict(info))
            return found


def _dm_id(user_id: str) -> str:
    return "D" + user_id[1:]


def _channel_type(info: dict[str, Any]) -> str:
    if info.get("is_im"):
        return "im"
    if info.get("is_mpim"):
        return "mpim"
    return "private_channel" if info.get("is_private") else "public_channel"


def new_state() -> SlackState:
    """The demo workspace of docs/demo-client.md."""
    state = SlackState()
    state.add_channel("C0ACME0001", "client-acme-dental")
    state.add_channel("C0OPS00001", "ops")
    state.add_user("U0AM00001", "priya")
    state.add_user("U0JOEY0001", "joey")
    state.add_user(BOT_USER_ID, "savedesk")
    state.add_token(SEED_TOKEN)
    return state


# -- request plumbing ---------------------------------------------------------------------


def _params() -> dict[str, Any]:
    """Arguments from the query string, a form body or a JSON body, the ways Slack accepts them."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
    elif request.form:
        params.update(request.form.items())
    return params


def _authenticate(params: dict[str, Any]) -> str | None:
    """None when the caller is authenticated, else Slack's error code."""
    header = request.headers.get("Authorization", "")
    token: str | None = None
    if header.startswith("Bearer "):
        token = header.removeprefix("Bearer ").strip()
    elif request.mimetype != "application/json":
        # The legacy `token` argument works for form and query calls, never with a JSON body.
        token = params.get("token")
    if not token:
        return "not_authed"
    if token not in vendor_state("slack").tokens:
        return "invalid_auth"
    return None


def _ok(payload: dict[str, Any], warnings: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, **payload}
    if warnings:
        body["warning"] = ",".join(warnings)
        body.setdefault("response_metadata", {})["warnings"] = warnings
    return jsonify(body)


def _error(code: str, warnings: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error": code}
    if warnings:
        body["warning"] = ",".join(warnings)
        body["response_metadata"] = {"warnings": warnings}
    return jsonify(body)


def _charset_warnings() -> list[str]:
    if request.method == "POST" and request.content_length and "charset" not in request.content_type.lower():
        return ["missing_charset"]
    return []


@blueprint.route("/api/<method>", methods=["GET", "POST"])
def api(method: str) -> Response:
    handler = _METHODS.get(method)
    if handler is None:
        return _error("unknown_method")
    params = _params()
    warnings = _charset_warnings()
    auth_error = _authenticate(params)
    if auth_error is not None:
        return _error(auth_error, warnings)
    return handler(params, warnings)


# -- methods ------------------------------------------------------------------------------


def _post_message(params: dict[str, Any], warnings: list[str]) -> Response:
    state: SlackState = vendor_state("slack")
    channel = params.get("channel")
    if not channel or not isinstance(channel, str):
        return _error("channel_not_found", warnings)
    text = params.get("text")
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        # Form-encoded calls carry blocks as a JSON string.
        try:
            blocks = json.loads(blocks) if blocks else None
        except ValueError:
            return _error("invalid_blocks", warnings)
    if blocks is not None:
        problem = _block_problem(blocks)
        if problem is not None:
            return _error("invalid_blocks", warnings)
    if not text and not blocks and not params.get("attachments"):
        return _error("no_text", warnings)
    if text is not None and not isinstance(text, str):
        return _error("invalid_arguments", warnings)
    if text and len(text) > MAX_TEXT_CHARS:
        return _error("msg_too_long", warnings)
    message: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": text or "",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "username": "SaveDesk",
    }
    if blocks:
        message["blocks"] = blocks
    thread_ts = params.get("thread_ts")
    if thread_ts:
        message["thread_ts"] = str(thread_ts)
    channel_id, result = state.post(channel, message)
    if channel_id is None:
        assert isinstance(result, str)
        return _error(result, warnings)
    assert isinstance(result, dict)
    return _ok({"channel": channel_id, "ts": result["ts"], "message": result}, warnings)


def _block_problem(blocks: Any) -> str | None:
    """Why Slack would refuse these blocks, or None. Covers the block types SaveDesk uses."""
    if not isinstance(blocks, list) or not blocks or len(blocks) > MAX_BLOCKS:
        return "blocks must be a non-empty list of at most 50"
    for block in blocks:
        if not isinstance(block, dict):
            return "block is not an object"
        kind = block.get("type")
        if kind == "header":
            if not _is_text(block.get("text"), "plain_text", MAX_HEADER_CHARS):
                return "header needs plain_text of at most 150 chars"
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                return "section needs text or fields"
            if text is not None and not _is_text(text, None, MAX_SECTION_TEXT_CHARS):
                return "section text"
            if fields is not None and (
                not isinstance(fields, list)
                or len(fields) > MAX_SECTION_FIELDS
                or not all(_is_text(f, None, MAX_FIELD_CHARS) for f in fields)
            ):
                return "section fields"
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
                return "context elements"
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= MAX_ACTIONS_ELEMENTS:
                return "actions elements"
            for element in elements:
                if not isinstance(element, dict):
                    return "action element is not an object"
                if element.get("type") == "button" and not _is_text(
                    element.get("text"), "plain_text", MAX_BUTTON_TEXT_CHARS
                ):
                    return "button text"
        elif kind in {"divider", "image", "rich_text", "input", "file", "video"}:
            continue
        else:
            return f"unknown block type {kind!r}"
    return None


def _is_text(obj: Any, kind: str | None, max_chars: int) -> bool:
    if not isinstance(obj, dict) or obj.get("type") not in {"plain_text", "mrkdwn"}:
        return False
    if kind is not None and obj["type"] != kind:
        return False
    text = obj.get("text")
    return isinstance(text, str) and 0 < len(text) <= max_chars


def _conversations_info(params: dict[str, Any], warnings: list[str]) -> Response:
    channel = vendor_state("slack").channel(str(params.get("channel", "")))
    if channel is None:
        return _error("channel_not_found", warnings)
    return _ok({"channel": channel}, warnings)


def _conversations_list(params: dict[str, Any], warnings: list[str]) -> Response:
    state: SlackState = vendor_state("slack")
    types = {t.strip() for t in str(params.get("types") or "public_channel").split(",") if t.strip()}
    if not types <= {"public_channel", "private_channel", "im", "mpim"}:
        return _error("invalid_types", warnings)
    try:
        limit = int(params.get("limit", 100))
    except ValueError:
        return _error("invalid_limit", warnings)
    if not 1 <= limit <= 1000:
        return _error("invalid_limit", warnings)
    offset = 0
    cursor = params.get("cursor")
    if cursor:
        try:
            offset = int(base64.b64decode(str(cursor), validate=True).decode().removeprefix("offset:"))
        except (ValueError, binascii.Error):
            return _error("invalid_cursor", warnings)
    exclude_archived = str(params.get("exclude_archived", "false")).lower() in {"true", "1"}
    channels = state.list_channels(types, exclude_archived)
    page = channels[offset : offset + limit]
    next_offset = offset + limit
    # Slack's cursors are opaque base64 strings; "" marks the last page.
    next_cursor = base64.b64encode(f"offset:{next_offset}".encode()).decode() if next_offset < len(channels) else ""
    return _ok({"channels": page, "response_metadata": {"next_cursor": next_cursor}}, warnings)


def _auth_test(params: dict[str, Any], warnings: list[str]) -> Response:
    return _ok(
        {
            "url": "https://topline-agency.slack.com/",
            "team": "Topline Agency",
            "user": "savedesk",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        },
        warnings,
    )


_METHODS = {
    "chat.postMessage": _post_message,
    "conversations.info": _conversations_info,
    "conversations.list": _conversations_list,
    "auth.test": _auth_test,
}
