"""Signature checks for every inbound webhook: HubSpot v3, Standard Webhooks, Typeform.

Every check runs over the raw request bytes, before anything parses them: JSON that has been
parsed and serialised again (key order, whitespace, `\\u` escapes) no longer matches what the
sender signed. Comparisons use `hmac.compare_digest` so the time taken does not tell an
attacker how much of a forged signature was right.

Two exception types, because they need different HTTP answers:
- `SignatureError`: the request is not authentic. The ingress answers 401
  `{"error": reason, "detail": detail}`, and senders do not retry a 401.
- `SecretConfigError`: our own secret configuration is broken. The ingress answers 500 and
  logs it, so the sender retries and nothing is lost while we fix the configuration. It
  deliberately does not subclass `SignatureError`: an ingress that only catches
  `SignatureError` then still fails with a 5xx instead of a 401 that would drop the event.

Neither message ever contains a secret or an expected signature.
"""

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Literal

DEFAULT_TOLERANCE_SECONDS = 300

# Real timestamps have 10 digits (seconds) or 13 (milliseconds). The cap keeps int() cheap on
# hostile input and keeps float arithmetic on the result exact enough.
_MAX_TIMESTAMP_DIGITS = 20

HUBSPOT_SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
HUBSPOT_TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
TYPEFORM_SIGNATURE_HEADER = "Typeform-Signature"

_STANDARD_KEY_PREFIX = "whsec_"
_TYPEFORM_PREFIX = "sha256="

Reason = Literal["missing_header", "bad_signature", "stale_timestamp", "malformed_header", "bad_secret"]


class SignatureError(Exception):
    """The request failed verification. `reason` is machine-readable; `detail` is for humans."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


class SecretConfigError(Exception):
    """Our configured secrets are unusable (empty, or not base64 where base64 is required)."""

    reason: Reason = "bad_secret"

    def __init__(self, detail: str) -> None:
        super().__init__(f"bad_secret: {detail}")
        self.detail = detail


# --- HubSpot v3 -------------------------------------------------------------------------------

# HubSpot's request-validation page says to decode exactly these escapes in the URI before
# hashing (developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/
# request-validation). The official hubspot-api-python SDK (hubspot/utils/signature.py) does
# NOT decode anything: it hashes the URI exactly as given. The two agree for a URI with none of
# these escapes, which is why the ingress builds the URI from its configured public URL.
# Matched case-insensitively because RFC 3986 makes %3a and %3A the same escape.
_HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_ESCAPE = re.compile("|".join(_HUBSPOT_DECODED), re.IGNORECASE)


def _hubspot_uri(uri: str) -> str:
    return _HUBSPOT_ESCAPE.sub(lambda match: _HUBSPOT_DECODED[match.group(0).upper()], uri)


def _hubspot_message(method: str, uri: str, body: bytes, timestamp_ms: str) -> bytes:
    return method.encode("utf-8") + _hubspot_uri(uri).encode("utf-8") + body + timestamp_ms.encode("utf-8")


def sign_hubspot_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: str | int) -> str:
    """The `X-HubSpot-Signature-v3` value HubSpot would send for this request."""
    message = _hubspot_message(method, uri, body, str(timestamp_ms))
    return _hmac_sha256_b64(secret.encode("utf-8"), message)


def verify_hubspot_v3(
    *,
    client_secrets: Sequence[str],
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp_ms: str | None,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a HubSpot v3 signature: base64 HMAC-SHA256 of `method + uri + body + timestamp`.

    `uri` is the public URL HubSpot called, built from configuration rather than from the
    request line that API Gateway rewrote. `timestamp_ms` is `X-HubSpot-Request-Timestamp`, in
    milliseconds; it must lie within `tolerance_seconds` of `now` either way, so a value sent in
    seconds (read as 1970) fails as stale. Every secret in `client_secrets` is tried, so an old
    and a new secret both pass during a rotation.
    """
    _check_secret_list(client_secrets, "HubSpot client secret")
    provided = _header_bytes(_required(signature, HUBSPOT_SIGNATURE_HEADER), HUBSPOT_SIGNATURE_HEADER)
    timestamp_text = _required(timestamp_ms, HUBSPOT_TIMESTAMP_HEADER)
    sent_ms = _parse_timestamp(timestamp_text, HUBSPOT_TIMESTAMP_HEADER)
    _check_fresh(sent_ms / 1000, now, tolerance_seconds, HUBSPOT_TIMESTAMP_HEADER)
    try:
        message = _hubspot_message(method, uri, body, timestamp_text)
    except UnicodeEncodeError:
        raise SignatureError("malformed_header", "request method or URI is not valid text") from None

    for secret in client_secrets:
        if _same(_hmac_sha256_b64(secret.encode("utf-8"), message), provided):
            return
    raise SignatureError("bad_signature", f"{HUBSPOT_SIGNATURE_HEADER} matches no configured client secret")


# --- Standard Webhooks (standardwebhooks.com, spec 1.0) ---------------------------------------


def _standard_key(secret: str) -> bytes:
    encoded = secret.removeprefix(_STANDARD_KEY_PREFIX)
    # Some senders show the key without base64 padding; add it back rather than reject it.
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(padded, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise SecretConfigError("a Standard Webhooks secret is not base64 (expected whsec_<base64>)") from None
    if not key:
        raise SecretConfigError("a Standard Webhooks secret is empty")
    return key


def _standard_message(msg_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def sign_standard_webhook(secret: str, msg_id: str, timestamp: str | int, body: bytes) -> str:
    """One `webhook-signature` entry, `v1,<base64>`, for `secret` in `whsec_<base64>` form."""
    message = _standard_message(msg_id, str(timestamp), body)
    return "v1," + _hmac_sha256_b64(_standard_key(secret), message)


def verify_standard_webhook(
    *,
    secrets: Sequence[str],
    msg_id: str | None,
    timestamp: str | None,
    signature_header: str | None,
    body: bytes,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a Standard Webhooks signature: HMAC-SHA256 of `"{id}.{timestamp}.{body}"`.

    `timestamp` is unix seconds and must lie within `tolerance_seconds` of `now` either way.
    `signature_header` is a space-separated list; any `v1,` entry made with any of `secrets`
    passes (senders list several during their own rotation). Entries of other versions, such as
    the asymmetric `v1a,`, are ignored. Secrets are `whsec_<base64 key>` or the bare base64 key;
    one that is not base64 raises `SecretConfigError`. `webhook-id` is the sender's idempotency
    key: deduplicate on it downstream, because a valid request can be replayed within the window.
    """
    _check_secret_list(secrets, "Standard Webhooks secret")
    keys = [_standard_key(secret) for secret in secrets]
    msg_id = _required(msg_id, STANDARD_ID_HEADER)
    timestamp_text = _required(timestamp, STANDARD_TIMESTAMP_HEADER)
    header = _header_bytes(_required(signature_header, STANDARD_SIGNATURE_HEADER), STANDARD_SIGNATURE_HEADER)
    # The spec forbids "." in the id: with one, "{id}.{ts}.{body}" no longer splits one way only.
    if "." in msg_id:
        raise SignatureError("malformed_header", f"{STANDARD_ID_HEADER} must not contain '.'")
    id_bytes = _header_bytes(msg_id, STANDARD_ID_HEADER)
    sent = _parse_timestamp(timestamp_text, STANDARD_TIMESTAMP_HEADER)
    _check_fresh(sent, now, tolerance_seconds, STANDARD_TIMESTAMP_HEADER)

    candidates = [sig for version, _, sig in (entry.partition(b",") for entry in header.split()) if version == b"v1"]
    if not candidates:
        raise SignatureError("malformed_header", f"{STANDARD_SIGNATURE_HEADER} has no v1 signature")

    message = id_bytes + b"." + timestamp_text.encode("ascii") + b"." + body
    for key in keys:
        expected = _hmac_sha256_b64(key, message)
        if any(_same(expected, candidate) for candidate in candidates):
            return
    raise SignatureError("bad_signature", f"no v1 entry in {STANDARD_SIGNATURE_HEADER} matches a configured secret")


# --- Typeform ---------------------------------------------------------------------------------


def sign_typeform(secret: str, body: bytes) -> str:
    """The `Typeform-Signature` value: `sha256=<base64 HMAC-SHA256 of the body>`."""
    return _TYPEFORM_PREFIX + _hmac_sha256_b64(secret.encode("utf-8"), body)


def verify_typeform(*, secrets: Sequence[str], signature: str | None, body: bytes) -> None:
    """Check `Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, raw body)>`.

    Typeform signs no timestamp, so this cannot reject a replayed request: a captured delivery
    stays valid forever. Replay protection is deduplication on `event_id` (and the response
    `token`) downstream, then the case state. Every secret in `secrets` is tried (rotation).
    """
    _check_secret_list(secrets, "Typeform secret")
    provided = _header_bytes(_required(signature, TYPEFORM_SIGNATURE_HEADER), TYPEFORM_SIGNATURE_HEADER)
    if not provided.startswith(_TYPEFORM_PREFIX.encode("ascii")):
        raise SignatureError("malformed_header", f"{TYPEFORM_SIGNATURE_HEADER} must start with '{_TYPEFORM_PREFIX}'")

    for secret in secrets:
        if _same(sign_typeform(secret, body), provided):
            return
    raise SignatureError("bad_signature", f"{TYPEFORM_SIGNATURE_HEADER} matches no configured secret")


# --- shared -----------------------------------------------------------------------------------


def _hmac_sha256_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def _same(expected: str, provided: bytes) -> bool:
    # Compare the base64 text, not decoded bytes: lenient decoding maps several texts to the
    # same bytes (ignored characters, unused low bits), and only the exact text was signed.
    return hmac.compare_digest(expected.encode("ascii"), provided)


def _check_secret_list(secrets: Sequence[str], what: str) -> None:
    # A bare string is a Sequence[str] too; iterating it would make every character a secret.
    if isinstance(secrets, str):
        raise SecretConfigError(f"{what}s must be a list of strings, not one string")
    if not secrets:
        raise SecretConfigError(f"no {what} is configured")
    if not all(isinstance(secret, str) and secret for secret in secrets):
        raise SecretConfigError(f"a {what} is empty")


def _required(value: str | None, header: str) -> str:
    if not value:
        raise SignatureError("missing_header", f"{header} header is missing")
    return value


def _header_bytes(value: str, header: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot come from real HTTP; refuse, don't crash
        raise SignatureError("malformed_header", f"{header} is not valid text") from None


def _parse_timestamp(value: str, header: str) -> int:
    # isascii() first: str.isdigit() also accepts digits such as "²" that int() rejects.
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise SignatureError("malformed_header", f"{header} must be a non-negative integer")
    return int(value)


def _check_fresh(sent_at: float, now: float | None, tolerance_seconds: int, header: str) -> None:
    current = time.time() if now is None else now
    age = current - sent_at
    # Written as "inside the window, else reject" so a NaN clock rejects instead of passing.
    if -tolerance_seconds <= age <= tolerance_seconds:
        return
    if age < 0:
        raise SignatureError(
            "stale_timestamp", f"{header} is {-age:.0f} s in the future; the limit is {tolerance_seconds} s"
        )
    raise SignatureError("stale_timestamp", f"{header} is {age:.0f} s old; the limit is {tolerance_seconds} s")
