"""A meeting invitation as an RFC 5545 iCalendar file (METHOD:REQUEST), written by hand.

The format is small enough that a dependency would cost more than it saves; the rules that
matter are all here: CRLF line endings, lines folded at 75 octets (not characters), TEXT
values escaped, times in UTC. Send it as `text/calendar; method=REQUEST; charset=UTF-8`.

Updating a meeting: send the same `uid` with a higher `sequence`; calendars replace the event.
"""

from datetime import UTC, datetime

PRODID = "-//Topline//SaveDesk//EN"
_MAX_OCTETS = 75
_CONTROL = {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {"\x7f"}


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash first, then `;` `,` and newlines."""
    value = "".join(ch for ch in value if ch not in _CONTROL)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value (CN=...): no escaping exists there, so drop what cannot appear and quote."""
    cleaned = " ".join("".join(ch for ch in value if ch not in _CONTROL and ch != '"').split())
    return f'"{cleaned}"' if any(ch in cleaned for ch in ":;,") else cleaned


def _single_token(value: str, what: str) -> str:
    # UIDs, URLs and addresses go out unescaped, so a CR/LF in one would start a new property.
    if not value or any(ch.isspace() or ch in _CONTROL for ch in value):
        raise ValueError(f"{what} must be non-empty and contain no whitespace or control characters: {value!r}")
    return value


def _mailto(email: str) -> str:
    local, at, domain = _single_token(email, "email address").partition("@")
    if not at or not local or not domain or "@" in domain:
        raise ValueError(f"not an email address: {email!r}")
    return f"mailto:{email}"


def _utc(value: datetime, what: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware; a naive time would land in the reader's zone")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line into CRLF-joined chunks of at most 75 octets, never splitting a character."""
    chunks: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > _MAX_OCTETS:
            chunks.append(current)
            # A continuation line starts with one space, which counts toward its 75 octets.
            current, size = " ", 1
        current += ch
        size += width
    chunks.append(current)
    return "\r\n".join(chunks)


def build_ics(
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    organizer_email: str,
    organizer_name: str,
    attendees: list[tuple[str, str]],
    location: str | None = None,
    url: str | None = None,
    sequence: int = 0,
    *,
    dtstamp: datetime | None = None,
) -> str:
    """Return the .ics text for one event; `attendees` are (name, email) pairs."""
    dtstart, dtend = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        raise ValueError("end must be after start")
    if sequence < 0:
        raise ValueError("sequence cannot be negative")
    stamp = dtstamp if dtstamp is not None else datetime.now(UTC)

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{_single_token(uid, 'uid')}",
        f"DTSTAMP:{_utc(stamp, 'dtstamp')}",
        f"DTSTART:{dtstart}",
        f"DTEND:{dtend}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    if location is not None:
        lines.append(f"LOCATION:{escape_text(location)}")
    if url is not None:
        lines.append(f"URL:{_single_token(url, 'url')}")
    lines.append(f"ORGANIZER;CN={_param(organizer_name)}:{_mailto(organizer_email)}")
    for name, email in attendees:
        lines.append(
            f"ATTENDEE;CN={_param(name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
            f"{_mailto(email)}"
        )
    lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
