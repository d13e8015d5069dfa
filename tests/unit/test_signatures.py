"""Signature verification for inbound webhooks (reliability.md W1-W4, W12, D6)."""

import base64
import contextlib
import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from savedesk.integrations import signatures
from savedesk.integrations.signatures import (
    SecretConfigError,
    SignatureError,
    sign_hubspot_v3,
    sign_standard_webhook,
    sign_typeform,
    verify_hubspot_v3,
    verify_standard_webhook,
    verify_typeform,
)

# Published / documented vectors (api-reference.md sections 4 and 5; standard-webhooks python tests).
HS_SECRET = "hs_client_secret"
HS_URI = "https://example.com/hooks/hubspot"
HS_BODY = b'[{"eventId":1}]'
HS_TS_MS = "1700000000000"
HS_SIGNATURE = "4hBt6YddPXyMcZIaXHQc8NY3tjThF0c0BwXsQDSwqks="
HS_NOW = 1_700_000_000.0

TF_SECRET = "tf_secret"
TF_BODY = b'{"event_id":"01TEST","event_type":"form_response"}'
TF_SIGNATURE = "sha256=UqpZ5q7CgE65U3f1RZdnLGXMpvMI3u3xM3Ek/qLCCEA="

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = "1614265330"
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SW_NOW = 1_614_265_330.0
SW_OTHER_SECRET = "whsec_" + base64.b64encode(b"another-key-of-24-bytes!").decode()

TOLERANCE = 300


def hubspot(**overrides: object) -> None:
    kwargs: dict[str, object] = {
        "client_secrets": [HS_SECRET],
        "method": "POST",
        "uri": HS_URI,
        "body": HS_BODY,
        "signature": HS_SIGNATURE,
        "timestamp_ms": HS_TS_MS,
        "now": HS_NOW,
    }
    kwargs.update(overrides)
    verify_hubspot_v3(**kwargs)  # type: ignore[arg-type]


def standard(**overrides: object) -> None:
    kwargs: dict[str, object] = {
        "secrets": [SW_SECRET],
        "msg_id": SW_ID,
        "timestamp": SW_TS,
        "signature_header": SW_SIGNATURE,
        "body": SW_BODY,
        "now": SW_NOW,
    }
    kwargs.update(overrides)
    verify_standard_webhook(**kwargs)  # type: ignore[arg-type]


def typeform(**overrides: object) -> None:
    kwargs: dict[str, object] = {"secrets": [TF_SECRET], "signature": TF_SIGNATURE, "body": TF_BODY}
    kwargs.update(overrides)
    verify_typeform(**kwargs)  # type: ignore[arg-type]


def reason_of(call: Callable[[], None]) -> str:
    with pytest.raises(SignatureError) as caught:
        call()
    return caught.value.reason


def flip_one_byte(data: bytes, index: int = 5) -> bytes:
    mutated = bytearray(data)
    mutated[index] ^= 0x01
    return bytes(mutated)


# --- published vectors ------------------------------------------------------------------------


def test_hubspot_vector() -> None:
    assert sign_hubspot_v3(HS_SECRET, "POST", HS_URI, HS_BODY, HS_TS_MS) == HS_SIGNATURE
    assert sign_hubspot_v3(HS_SECRET, "POST", HS_URI, HS_BODY, int(HS_TS_MS)) == HS_SIGNATURE
    hubspot()


def test_typeform_vector() -> None:
    assert sign_typeform(TF_SECRET, TF_BODY) == TF_SIGNATURE
    typeform()


def test_standard_webhooks_vector_with_and_without_prefix() -> None:
    assert sign_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY) == SW_SIGNATURE
    bare_key = SW_SECRET.removeprefix("whsec_")
    assert sign_standard_webhook(bare_key, SW_ID, int(SW_TS), SW_BODY) == SW_SIGNATURE
    standard()
    standard(secrets=[bare_key])


def test_standard_webhooks_accepts_unpadded_base64_key() -> None:
    key = base64.b64encode(b"twenty-five bytes of key!").decode()
    assert key.endswith("=")
    signature = sign_standard_webhook("whsec_" + key, SW_ID, SW_TS, SW_BODY)
    standard(secrets=["whsec_" + key.rstrip("=")], signature_header=signature)


# --- missing headers --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
@pytest.mark.parametrize("field", ["signature", "timestamp_ms"])
def test_hubspot_missing_header(field: str, value: str | None) -> None:
    assert reason_of(lambda: hubspot(**{field: value})) == "missing_header"


@pytest.mark.parametrize("value", [None, ""])
@pytest.mark.parametrize("field", ["msg_id", "timestamp", "signature_header"])
def test_standard_missing_header(field: str, value: str | None) -> None:
    assert reason_of(lambda: standard(**{field: value})) == "missing_header"


@pytest.mark.parametrize("value", [None, ""])
def test_typeform_missing_header(value: str | None) -> None:
    assert reason_of(lambda: typeform(signature=value)) == "missing_header"


# --- malformed headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        TF_SIGNATURE.removeprefix("sha256="),  # bare base64, no prefix
        "SHA256=" + TF_SIGNATURE.removeprefix("sha256="),
        "sha1=" + TF_SIGNATURE.removeprefix("sha256="),
        " " + TF_SIGNATURE,
    ],
)
def test_typeform_without_sha256_prefix(signature: str) -> None:
    assert reason_of(lambda: typeform(signature=signature)) == "malformed_header"


HS_BAD_TIMESTAMPS = [
    "abc",
    "-1700000000000",
    "1700000000000.5",
    " 1700000000000",
    "\uff11\uff17\uff10\uff10",  # full-width digits: str.isdigit() says yes, we say no
    "9" * 21,
]


@pytest.mark.parametrize("timestamp", HS_BAD_TIMESTAMPS)
def test_hubspot_malformed_timestamp(timestamp: str) -> None:
    assert reason_of(lambda: hubspot(timestamp_ms=timestamp)) == "malformed_header"


@pytest.mark.parametrize("timestamp", ["abc", "-5", "1614265330.0", "1e9", "²"])
def test_standard_malformed_timestamp(timestamp: str) -> None:
    assert reason_of(lambda: standard(timestamp=timestamp)) == "malformed_header"


@pytest.mark.parametrize(
    "header",
    [
        SW_SIGNATURE.removeprefix("v1,"),  # no version
        "v1a," + SW_SIGNATURE.removeprefix("v1,"),  # only an asymmetric entry, which we ignore
        "v2,abc v1a,def",
        "   ",
    ],
)
def test_standard_without_v1_entry(header: str) -> None:
    assert reason_of(lambda: standard(signature_header=header)) == "malformed_header"


def test_standard_id_with_dot_is_malformed() -> None:
    signature = sign_standard_webhook(SW_SECRET, "msg.1", SW_TS, SW_BODY)
    assert reason_of(lambda: standard(msg_id="msg.1", signature_header=signature)) == "malformed_header"


def test_lone_surrogate_in_header_is_malformed_not_a_crash() -> None:
    assert reason_of(lambda: hubspot(signature="\ud800")) == "malformed_header"
    assert reason_of(lambda: standard(msg_id="\udfff")) == "malformed_header"
    assert reason_of(lambda: typeform(signature="sha256=\ud800")) == "malformed_header"


# --- wrong secret, flipped byte ---------------------------------------------------------------


def test_wrong_secret_is_bad_signature() -> None:
    assert reason_of(lambda: hubspot(client_secrets=["not-the-secret"])) == "bad_signature"
    assert reason_of(lambda: standard(secrets=[SW_OTHER_SECRET])) == "bad_signature"
    assert reason_of(lambda: typeform(secrets=["not-the-secret"])) == "bad_signature"


def test_one_flipped_body_byte_is_bad_signature() -> None:
    assert reason_of(lambda: hubspot(body=flip_one_byte(HS_BODY))) == "bad_signature"
    assert reason_of(lambda: standard(body=flip_one_byte(SW_BODY))) == "bad_signature"
    assert reason_of(lambda: typeform(body=flip_one_byte(TF_BODY))) == "bad_signature"


def test_hubspot_signature_covers_method_uri_and_timestamp() -> None:
    assert reason_of(lambda: hubspot(method="PUT")) == "bad_signature"
    assert reason_of(lambda: hubspot(uri=HS_URI + "/")) == "bad_signature"
    assert reason_of(lambda: hubspot(timestamp_ms="1700000000001")) == "bad_signature"


def test_standard_signature_covers_id_and_timestamp() -> None:
    assert reason_of(lambda: standard(msg_id=SW_ID + "x")) == "bad_signature"
    assert reason_of(lambda: standard(timestamp=str(int(SW_TS) + 1))) == "bad_signature"


def test_empty_body_is_signed_too() -> None:
    signature = sign_hubspot_v3(HS_SECRET, "GET", HS_URI, b"", HS_TS_MS)
    hubspot(method="GET", body=b"", signature=signature)
    assert reason_of(lambda: hubspot(method="GET", body=b"", signature=HS_SIGNATURE)) == "bad_signature"


def test_messages_never_contain_secret_or_expected_signature() -> None:
    forged = "sha256=" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(SignatureError) as caught:
        typeform(signature=forged)
    text = f"{caught.value} {caught.value.detail}"
    assert TF_SECRET not in text
    assert TF_SIGNATURE.removeprefix("sha256=") not in text

    with pytest.raises(SignatureError) as caught:
        hubspot(signature="AAAA", client_secrets=[HS_SECRET])
    text = f"{caught.value} {caught.value.detail}"
    assert HS_SECRET not in text
    assert HS_SIGNATURE not in text


# --- timestamps -------------------------------------------------------------------------------


def hubspot_signed_at(sent_ms: int, now: float) -> None:
    signature = sign_hubspot_v3(HS_SECRET, "POST", HS_URI, HS_BODY, sent_ms)
    hubspot(signature=signature, timestamp_ms=str(sent_ms), now=now)


def standard_signed_at(sent: int, now: float) -> None:
    signature = sign_standard_webhook(SW_SECRET, SW_ID, sent, SW_BODY)
    standard(signature_header=signature, timestamp=str(sent), now=now)


@pytest.mark.parametrize("offset", [-TOLERANCE + 1, -TOLERANCE, 0, TOLERANCE, TOLERANCE - 1])
def test_hubspot_timestamp_inside_window(offset: int) -> None:
    hubspot_signed_at((int(HS_NOW) + offset) * 1000, HS_NOW)


@pytest.mark.parametrize("offset", [-TOLERANCE - 1, TOLERANCE + 1])
def test_hubspot_timestamp_outside_window(offset: int) -> None:
    sent_ms = (int(HS_NOW) + offset) * 1000
    assert reason_of(lambda: hubspot_signed_at(sent_ms, HS_NOW)) == "stale_timestamp"


def test_hubspot_timestamp_in_seconds_is_stale() -> None:
    sent_seconds = int(HS_NOW)  # read as milliseconds this is January 1970
    assert reason_of(lambda: hubspot_signed_at(sent_seconds, HS_NOW)) == "stale_timestamp"


def test_hubspot_uses_the_clock_when_now_is_not_given() -> None:
    assert reason_of(lambda: hubspot(now=None)) == "stale_timestamp"  # the vector is from 2023


@pytest.mark.parametrize("offset", [-TOLERANCE, -TOLERANCE + 1, 0, TOLERANCE - 1, TOLERANCE])
def test_standard_timestamp_inside_window(offset: int) -> None:
    standard_signed_at(int(SW_NOW) + offset, SW_NOW)


@pytest.mark.parametrize("offset", [-TOLERANCE - 1, TOLERANCE + 1])
def test_standard_timestamp_outside_window(offset: int) -> None:
    assert reason_of(lambda: standard_signed_at(int(SW_NOW) + offset, SW_NOW)) == "stale_timestamp"


def test_standard_timestamp_in_milliseconds_is_stale() -> None:
    assert reason_of(lambda: standard_signed_at(int(SW_NOW) * 1000, SW_NOW)) == "stale_timestamp"


def test_custom_tolerance() -> None:
    sent_ms = (int(HS_NOW) - 61) * 1000
    signature = sign_hubspot_v3(HS_SECRET, "POST", HS_URI, HS_BODY, sent_ms)
    hubspot(signature=signature, timestamp_ms=str(sent_ms))
    with pytest.raises(SignatureError, match="stale_timestamp"):
        hubspot(signature=signature, timestamp_ms=str(sent_ms), tolerance_seconds=60)


# --- rotation (W12) ---------------------------------------------------------------------------


def test_hubspot_rotation() -> None:
    old, new = HS_SECRET, "hs_new_secret"
    signed_new = sign_hubspot_v3(new, "POST", HS_URI, HS_BODY, HS_TS_MS)
    hubspot(client_secrets=[new, old])
    hubspot(client_secrets=[new, old], signature=signed_new)
    assert reason_of(lambda: hubspot(client_secrets=[new])) == "bad_signature"


def test_typeform_rotation() -> None:
    old, new = TF_SECRET, "tf_new_secret"
    typeform(secrets=[new, old])
    typeform(secrets=[new, old], signature=sign_typeform(new, TF_BODY))
    assert reason_of(lambda: typeform(secrets=[new])) == "bad_signature"


def test_standard_rotation_on_our_side() -> None:
    standard(secrets=[SW_OTHER_SECRET, SW_SECRET])
    assert reason_of(lambda: standard(secrets=[SW_OTHER_SECRET])) == "bad_signature"


def test_standard_several_entries_any_v1_may_match() -> None:
    ours = sign_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY)
    theirs = sign_standard_webhook(SW_OTHER_SECRET, SW_ID, SW_TS, SW_BODY)
    asymmetric = "v1a," + base64.b64encode(b"s" * 64).decode()
    for header in (f"{theirs} {ours}", f"{ours} {theirs}", f"{asymmetric} {theirs}  {ours}", f"v2,zzz {ours}"):
        standard(signature_header=header)
    assert reason_of(lambda: standard(signature_header=f"{theirs} {asymmetric}")) == "bad_signature"


def test_standard_v1a_entry_with_our_hmac_is_ignored() -> None:
    ours = sign_standard_webhook(SW_SECRET, SW_ID, SW_TS, SW_BODY).removeprefix("v1,")
    assert reason_of(lambda: standard(signature_header=f"v1a,{ours}")) == "malformed_header"


# --- raw bytes only (W4) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda doc: json.dumps(doc),  # spaces after separators
        lambda doc: json.dumps(doc, separators=(",", ":"), sort_keys=True),
        lambda doc: json.dumps(doc, indent=2),
        lambda doc: json.dumps(doc, separators=(",", ":"), ensure_ascii=True),
    ],
)
def test_reserialised_json_fails(reserialise: Callable[[object], str]) -> None:
    raw = '{"event_type":"form_response","event_id":"01TEST","name":"Zoë"}'.encode()
    signature = sign_typeform(TF_SECRET, raw)
    typeform(signature=signature, body=raw)
    other = reserialise(json.loads(raw)).encode()
    assert other != raw
    assert reason_of(lambda: typeform(signature=signature, body=other)) == "bad_signature"

    hs_signature = sign_hubspot_v3(HS_SECRET, "POST", HS_URI, raw, HS_TS_MS)
    assert reason_of(lambda: hubspot(signature=hs_signature, body=other)) == "bad_signature"
    sw_signature = sign_standard_webhook(SW_SECRET, SW_ID, SW_TS, raw)
    assert reason_of(lambda: standard(signature_header=sw_signature, body=other)) == "bad_signature"


def test_compare_digest_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = signatures.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    hubspot()
    standard()
    typeform()
    assert len(calls) == 3


# --- HubSpot URI decoding ---------------------------------------------------------------------


def test_hubspot_decodes_the_documented_escapes() -> None:
    encoded = "https://example.com/hooks/hubspot%3Fa%3Ab%2Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl"
    decoded = "https://example.com/hooks/hubspot?a:b/c@d!e$f'g(h)i*j,k;l"
    assert sign_hubspot_v3(HS_SECRET, "POST", encoded, HS_BODY, HS_TS_MS) == sign_hubspot_v3(
        HS_SECRET, "POST", decoded, HS_BODY, HS_TS_MS
    )
    signature = sign_hubspot_v3(HS_SECRET, "POST", decoded, HS_BODY, HS_TS_MS)
    hubspot(uri=encoded, signature=signature)
    hubspot(uri=encoded.lower().replace("https://example.com/hooks/hubspot", HS_URI), signature=signature)


def test_hubspot_leaves_other_escapes_alone() -> None:
    with_space = HS_URI + "?q=a%20b&r=c%25d"
    decoded = HS_URI + "?q=a b&r=c%d"
    assert sign_hubspot_v3(HS_SECRET, "POST", with_space, HS_BODY, HS_TS_MS) != sign_hubspot_v3(
        HS_SECRET, "POST", decoded, HS_BODY, HS_TS_MS
    )


# --- our secret configuration -----------------------------------------------------------------


@pytest.mark.parametrize("secrets", [[], [""], "hs_client_secret", [HS_SECRET, ""]])
def test_bad_secret_list_is_a_config_error(secrets: object) -> None:
    with pytest.raises(SecretConfigError) as caught:
        hubspot(client_secrets=secrets)
    assert caught.value.reason == "bad_secret"
    with pytest.raises(SecretConfigError):
        typeform(secrets=secrets)
    with pytest.raises(SecretConfigError):
        standard(secrets=secrets)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_a", "whsec_ÿÿÿÿ", "%%%%"])
def test_standard_malformed_secret_is_a_config_error(secret: str) -> None:
    with pytest.raises(SecretConfigError) as caught:
        standard(secrets=[SW_SECRET, secret])
    assert caught.value.reason == "bad_secret"


def test_config_error_is_not_a_signature_error() -> None:
    # An ingress that only catches SignatureError must fail with a 5xx (sender retries),
    # not answer 401 (sender gives up) because our own configuration is broken.
    assert not issubclass(SecretConfigError, SignatureError)


# --- properties (D6) --------------------------------------------------------------------------

# Secrets and ids are text a person or a sender configured: any character but lone surrogates,
# which no header or secret store can carry (garbage headers below do include them).
secret_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
standard_keys = st.binary(min_size=1, max_size=64).map(lambda key: "whsec_" + base64.b64encode(key).decode())
standard_ids = st.text(
    alphabet=st.characters(exclude_characters=".", exclude_categories=("Cs",)), min_size=1, max_size=40
)
unix_seconds = st.integers(min_value=0, max_value=10**11)
offsets = st.integers(min_value=-TOLERANCE, max_value=TOLERANCE)
# Garbage headers: anything, including lone surrogates and near-valid shapes.
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)
garbage = st.one_of(
    st.none(),
    any_text,
    st.integers().map(str),
    st.tuples(st.sampled_from(["v1,", "v1a,", "sha256=", "v1, v1,", ""]), any_text).map("".join),
)


def mutate(data: bytes, index: int, xor: int) -> bytes:
    mutated = bytearray(data)
    mutated[index % len(mutated)] ^= xor
    return bytes(mutated)


def mutate_text(text: str, index: int, xor: int) -> str:
    # One byte of the header value changes; latin-1 maps every byte back to one character.
    return mutate(text.encode("ascii"), index, xor).decode("latin-1")


byte_xor = st.integers(min_value=1, max_value=255)


@given(secret=secret_text, body=st.binary(), sent=unix_seconds, offset=offsets, method=st.sampled_from(["POST", "GET"]))
def test_hubspot_sign_then_verify(secret: str, body: bytes, sent: int, offset: int, method: str) -> None:
    sent_ms = str(sent * 1000)
    signature = sign_hubspot_v3(secret, method, HS_URI, body, sent_ms)
    verify_hubspot_v3(
        client_secrets=[secret],
        method=method,
        uri=HS_URI,
        body=body,
        signature=signature,
        timestamp_ms=sent_ms,
        now=sent + offset,
    )


@given(secret=standard_keys, msg_id=standard_ids, body=st.binary(), sent=unix_seconds, offset=offsets)
def test_standard_sign_then_verify(secret: str, msg_id: str, body: bytes, sent: int, offset: int) -> None:
    signature = sign_standard_webhook(secret, msg_id, sent, body)
    verify_standard_webhook(
        secrets=[secret], msg_id=msg_id, timestamp=str(sent), signature_header=signature, body=body, now=sent + offset
    )


@given(secret=secret_text, body=st.binary())
def test_typeform_sign_then_verify(secret: str, body: bytes) -> None:
    verify_typeform(secrets=[secret], signature=sign_typeform(secret, body), body=body)


@given(body=st.binary(min_size=1), index=st.integers(min_value=0), xor=byte_xor)
def test_any_body_mutation_fails(body: bytes, index: int, xor: int) -> None:
    mutated = mutate(body, index, xor)
    hs = sign_hubspot_v3(HS_SECRET, "POST", HS_URI, body, HS_TS_MS)
    sw = sign_standard_webhook(SW_SECRET, SW_ID, SW_TS, body)
    tf = sign_typeform(TF_SECRET, body)
    assert reason_of(lambda: hubspot(body=mutated, signature=hs)) == "bad_signature"
    assert reason_of(lambda: standard(body=mutated, signature_header=sw)) == "bad_signature"
    assert reason_of(lambda: typeform(body=mutated, signature=tf)) == "bad_signature"


@given(index=st.integers(min_value=0), xor=byte_xor)
def test_any_signature_mutation_fails(index: int, xor: int) -> None:
    with pytest.raises(SignatureError):
        hubspot(signature=mutate_text(HS_SIGNATURE, index, xor))
    with pytest.raises(SignatureError):
        standard(signature_header=mutate_text(SW_SIGNATURE, index, xor))
    with pytest.raises(SignatureError):
        typeform(signature=mutate_text(TF_SIGNATURE, index, xor))


@given(signature=garbage, timestamp=garbage, body=st.binary(max_size=64), now=st.floats())
def test_hubspot_garbage_only_raises_signature_error(
    signature: str | None, timestamp: str | None, body: bytes, now: float
) -> None:
    with contextlib.suppress(SignatureError):
        hubspot(signature=signature, timestamp_ms=timestamp, body=body, now=now)


@given(msg_id=garbage, timestamp=garbage, header=garbage, body=st.binary(max_size=64), now=st.floats())
def test_standard_garbage_only_raises_signature_error(
    msg_id: str | None, timestamp: str | None, header: str | None, body: bytes, now: float
) -> None:
    with contextlib.suppress(SignatureError):
        standard(msg_id=msg_id, timestamp=timestamp, signature_header=header, body=body, now=now)


@given(signature=garbage, body=st.binary(max_size=64))
def test_typeform_garbage_only_raises_signature_error(signature: str | None, body: bytes) -> None:
    with contextlib.suppress(SignatureError):
        typeform(signature=signature, body=body)
