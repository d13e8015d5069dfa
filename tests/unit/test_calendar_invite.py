"""The .ics writer, checked by parsing its output back with a deliberately tiny RFC 5545 reader."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from savedesk.calendar_invite import PRODID, build_ics, escape_text, fold

START = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
STAMP = datetime(2026, 11, 24, 14, 6, 0, tzinfo=UTC)


def unfold(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    return ics[: -len("\r\n")].replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(ch)
    return "".join(out)


def parse(ics: str) -> list[tuple[str, dict[str, str], str]]:
    """(name, params, value) per content line; `;` and `:` inside a quoted parameter value are data."""
    parsed = []
    for line in unfold(ics):
        parts, current, quoted = [], "", False
        for i, ch in enumerate(line):
            if ch == '"':
                quoted = not quoted
                continue
            if not quoted and ch in ";:":
                parts.append(current)
                current = ""
                if ch == ":":
                    value = line[i + 1 :]
                    break
                continue
            current += ch
        else:
            raise AssertionError(f"no value in {line!r}")
        name, *raw_params = parts
        params = dict(p.split("=", 1) for p in raw_params)
        parsed.append((name, params, value))
    return parsed


def props(ics: str) -> dict[str, str]:
    return {name: value for name, _, value in parse(ics)}


def sample(**overrides: object) -> str:
    args: dict[str, object] = {
        "uid": "case-ACME-001-20261124-meeting@savedesk.topline-agency.example",
        "start": START,
        "end": START + timedelta(minutes=30),
        "summary": "Acme Dental Group / Topline: wrap-up",
        "description": "30 minutes to close everything properly.\nAgenda: billing, access; campaigns.",
        "organizer_email": "priya@topline-agency.example",
        "organizer_name": "Priya Natarajan",
        "attendees": [("Dana Whitfield", "dana@acme-dental.example")],
        "dtstamp": STAMP,
    }
    args.update(overrides)
    return build_ics(**args)  # type: ignore[arg-type]


def test_the_event_reads_back() -> None:
    ics = sample(location="Google Meet", url="https://meet.google.com/abc-defg-hij", sequence=2)
    p = props(ics)
    assert p["VERSION"] == "2.0"
    assert p["PRODID"] == PRODID
    assert p["METHOD"] == "REQUEST"
    assert p["UID"] == "case-ACME-001-20261124-meeting@savedesk.topline-agency.example"
    assert p["DTSTART"] == "20261201T150000Z"  # 10:00 in New York
    assert p["DTEND"] == "20261201T153000Z"
    assert p["DTSTAMP"] == "20261124T140600Z"
    assert p["SEQUENCE"] == "2"
    assert unescape(p["SUMMARY"]) == "Acme Dental Group / Topline: wrap-up"
    assert unescape(p["DESCRIPTION"]) == "30 minutes to close everything properly.\nAgenda: billing, access; campaigns."
    assert p["LOCATION"] == "Google Meet"
    assert p["URL"] == "https://meet.google.com/abc-defg-hij"

    lines = parse(ics)
    names = [name for name, _, _ in lines]
    assert names[:2] == ["BEGIN", "VERSION"] and names[-2:] == ["END", "END"]
    assert [v for n, _, v in lines if n == "BEGIN"] == ["VCALENDAR", "VEVENT"]
    organizer = next((params, value) for name, params, value in lines if name == "ORGANIZER")
    assert organizer == ({"CN": "Priya Natarajan"}, "mailto:priya@topline-agency.example")
    attendee = next((params, value) for name, params, value in lines if name == "ATTENDEE")
    assert attendee[1] == "mailto:dana@acme-dental.example"
    assert attendee[0]["CN"] == "Dana Whitfield"
    assert attendee[0]["RSVP"] == "TRUE"
    assert attendee[0]["PARTSTAT"] == "NEEDS-ACTION"


def test_optional_properties_are_left_out() -> None:
    p = props(sample())
    assert "LOCATION" not in p and "URL" not in p
    assert p["SEQUENCE"] == "0"


def test_every_line_ends_in_crlf_and_no_bare_newline() -> None:
    ics = sample(description="one\ntwo\r\nthree\rfour")
    assert "\n" not in ics.replace("\r\n", "")
    assert "\r" not in ics.replace("\r\n", "")
    assert unescape(props(ics)["DESCRIPTION"]) == "one\ntwo\nthree\nfour"


def test_dtstamp_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = datetime.strptime(props(sample(dtstamp=None))["DTSTAMP"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= datetime.now(UTC)


def test_other_offsets_convert_to_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    p = props(sample(start=datetime(2026, 12, 2, 0, 0, tzinfo=tokyo), end=datetime(2026, 12, 2, 1, 0, tzinfo=tokyo)))
    assert p["DTSTART"] == "20261201T150000Z"
    assert p["DTEND"] == "20261201T160000Z"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak", "line\\nbreak"),
        ("crlf\r\nbreak", "crlf\\nbreak"),
        ("\\,", "\\\\\\,"),  # the backslash is escaped first, so it does not swallow the comma's escape
        ("colon: stays", "colon: stays"),
        ("bell\x07gone", "bellgone"),
    ],
)
def test_escape_text(raw: str, escaped: str) -> None:
    assert escape_text(raw) == escaped


def test_long_lines_fold_at_75_octets() -> None:
    description = "Agenda " * 40
    ics = sample(description=description)
    physical = ics.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in physical) == 75
    assert any(line.startswith(" ") for line in physical)
    assert unescape(props(ics)["DESCRIPTION"]) == description


def test_folding_counts_octets_and_never_splits_a_character() -> None:
    summary = "Café ☕ résumé 😀 " * 12
    ics = sample(summary=summary)
    for line in ics.split("\r\n")[:-1]:
        assert len(line.encode("utf-8")) <= 75
    assert unescape(props(ics)["SUMMARY"]) == summary


def test_fold_edge_exactly_75_octets() -> None:
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"
    assert fold("X" * 74 + "é") == "X" * 74 + "\r\n é"  # é is 2 octets: 76 would overflow


def test_a_newline_in_the_summary_cannot_inject_a_property() -> None:
    ics = sample(summary="Hi\r\nATTENDEE:mailto:evil@example.com\nMETHOD:CANCEL")
    names = [name for name, _, _ in parse(ics)]
    assert names.count("ATTENDEE") == 1
    assert names.count("METHOD") == 1


def test_parameter_values_with_separators_are_quoted() -> None:
    ics = sample(organizer_name="Natarajan, Priya", attendees=[('Dana; CEO: "Acme"', "dana@acme-dental.example")])
    lines = parse(ics)
    organizer = next(params for name, params, _ in lines if name == "ORGANIZER")
    assert organizer["CN"] == "Natarajan, Priya"
    attendee = next(params for name, params, _ in lines if name == "ATTENDEE")
    assert attendee["CN"] == "Dana; CEO: Acme"  # the double quotes a name cannot carry are dropped
    assert 'ORGANIZER;CN="Natarajan, Priya":mailto:priya@topline-agency.example' in unfold(ics)


def test_several_attendees() -> None:
    ics = sample(
        attendees=[("Sam Rivera", "sam@topline-agency.example"), ("Priya Natarajan", "priya@topline-agency.example")]
    )
    emails = [value for name, _, value in parse(ics) if name == "ATTENDEE"]
    assert emails == ["mailto:sam@topline-agency.example", "mailto:priya@topline-agency.example"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"start": datetime(2026, 12, 1, 15, 0)},  # naive
        {"end": START},  # zero length
        {"end": START - timedelta(minutes=1)},
        {"uid": "abc\r\nMETHOD:CANCEL"},
        {"uid": ""},
        {"url": "https://example.com/a\r\nX:1"},
        {"organizer_email": "priya@topline-agency.example\r\nATTENDEE:mailto:x@y.z"},
        {"attendees": [("Dana", "not-an-address")]},
        {"sequence": -1},
    ],
)
def test_bad_input_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sample(**overrides)


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_any_text_round_trips_and_folds(text: str) -> None:
    ics = sample(description=text)
    for line in ics.split("\r\n")[:-1]:
        assert len(line.encode("utf-8")) <= 75
    expected = "".join(ch for ch in text if ch in "\t\r\n" or not (ord(ch) < 0x20 or ord(ch) == 0x7F))
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")
    assert unescape(props(ics)["DESCRIPTION"]) == expected
