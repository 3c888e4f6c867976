"""C2SP tlog-policy: the logs, the witnesses, and the quorum of cosignatures that makes a checkpoint valid.

A policy file is octets, one item a line, each line ending in LF:

    log <vkey> [<url>]                    a log: its key's name is the log's origin
    witness <name> <vkey> [<url>]         a witness, named for the lines below
    group <name> all|any|<k> <name>...    witnessed when k of its n members are
    quorum <name>                         exactly once; `none` requires no cosignature

Items are separated by spaces and tabs only; blank lines and lines starting
with `#` (after any whitespace) are ignored. Names are opaque octets: no
Unicode is decoded in them, so `K` and the Kelvin sign are two names.
Witnesses and groups share one namespace, in which `none` is predefined; a
group or the quorum names only what preceding lines define, so groups cannot
be circular. A log key is a checkpoint signing key (Ed25519, type 0x01), a
witness key a cosignature key (tlog-cosignature Ed25519, type 0x04); two logs,
or two witnesses, with the same public key are refused whatever their key
names. Each name is a group member at most once in the whole policy: the
spec's "each witness can contribute to a group, or to the quorum in
particular, in only one way" is void if a witness may sit in two groups.

Every refusal is a `PolicyError` naming the line and what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.audit.notes import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    SignatureStatus,
    Verifier,
)

# Limits: the spec asks for at least 32 logs, 32 witnesses and 32 groups.
POLICY_SIZE_MAX = 256 << 10  # bytes of a policy file (a 32/32/32 policy with URLs is some 20 KiB)
POLICY_LINES_MAX = 4096
LOGS_MAX = 256
WITNESSES_MAX = 256
GROUPS_MAX = 256
NONE = b"none"

_KEYWORDS = "log, witness, group or quorum"
_WHITESPACE = re.compile(rb"[ \t]+")
_FORBIDDEN = re.compile(rb"[^\x09\x0a\x20-\x7e\x80-\xff]")
_DECIMAL = re.compile(rb"[0-9]+")
_KEY_TYPES = {0x01: "Ed25519", 0x02: "ECDSA", 0x04: "Ed25519 cosignature", 0x05: "RFC 6962", 0x06: "ML-DSA-44"}


class PolicyError(ValueError):
    """A policy file this verifier refuses; `line` is None when the file as a whole is wrong."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class PolicyLog:
    """A log the policy accepts; `url` is None when the line has none."""

    verifier: Verifier
    url: bytes | None
    line: int


@dataclass(frozen=True)
class PolicyWitness:
    """A witness; `name` is the policy's own name for it (not its key's name)."""

    name: bytes
    verifier: Verifier
    url: bytes | None
    line: int


@dataclass(frozen=True)
class Group:
    name: bytes
    threshold: int
    members: tuple[bytes, ...]
    line: int


@dataclass(frozen=True)
class Witnessing:
    """What one checkpoint's cosignature lines say of each witness of a policy."""

    quorum: bytes
    valid: tuple[bytes, ...]
    invalid: tuple[bytes, ...]  # a line names the witness's key but does not verify: counted as absent
    absent: tuple[bytes, ...]
    holds: bool

    def __str__(self) -> str:
        verdict = "met" if self.holds else "not met"
        failing = f"cosignatures that do not verify by {_names(self.invalid)}; " if self.invalid else ""
        return (
            f"the policy's quorum {show_name(self.quorum)} is {verdict}: "
            f"valid cosignatures by {_names(self.valid)}; {failing}no cosignature by {_names(self.absent)}"
        )


@dataclass(frozen=True)
class Policy:
    logs: tuple[PolicyLog, ...]
    witnesses: tuple[PolicyWitness, ...]
    groups: tuple[Group, ...]
    quorum: bytes

    @classmethod
    def parse(cls, data: bytes) -> Policy:
        """A policy file's octets, read exactly as C2SP tlog-policy has them; raises `PolicyError`."""
        _check_octets(data)
        parser = _Parser()
        for number, line in enumerate(data[:-1].split(b"\n"), start=1):
            parser.line(number, line)
        return parser.finish()

    def logs_named(self, origin: str) -> list[Verifier]:
        """The log keys whose name is `origin`: the only ones that may sign that log's checkpoints."""
        return [log.verifier for log in self.logs if log.verifier.name == origin]

    def lists_log(self, verifier: Verifier) -> bool:
        return any(log.verifier.encode() == verifier.encode() for log in self.logs)

    def holds(self, cosigned: Iterable[bytes]) -> bool:
        """Whether the quorum holds when exactly the witnesses named `cosigned` cosigned.

        Groups are evaluated in the order they are defined: a group names only
        what precedes it, so its members are settled by the time it is reached.
        """
        if self.quorum == NONE:
            return True
        witnessed = set(cosigned) & {witness.name for witness in self.witnesses}
        for group in self.groups:
            if sum(member in witnessed for member in group.members) >= group.threshold:
                witnessed.add(group.name)
        return self.quorum in witnessed

    def witnessing(self, note: Note) -> Witnessing:
        """Which witnesses validly cosigned the note, and whether that is the quorum.
        Cosignatures by keys the policy does not list are ignored."""
        statuses = [(witness.name, note.signature_by(witness.verifier)) for witness in self.witnesses]

        def named(status: SignatureStatus) -> tuple[bytes, ...]:
            return tuple(name for name, seen in statuses if seen is status)

        valid = named(SignatureStatus.VALID)
        return Witnessing(
            self.quorum, valid, named(SignatureStatus.INVALID), named(SignatureStatus.ABSENT), self.holds(valid)
        )

    def check_checkpoint(self, note: Note) -> Checkpoint:
        """The checkpoint, if one of the policy's logs named after its origin signed
        it and the quorum cosigned it; raises `NoteError` saying which is not so."""
        checkpoint = Checkpoint.parse(note.text)
        logs = self.logs_named(checkpoint.origin)
        if not logs:
            raise NoteError(f"no log of the policy has the checkpoint's origin {checkpoint.origin!r} as its key name")
        if not any(note.verified_by(log) for log in logs):
            keys = ", ".join(f"{log.name}+{log.key_id.hex()}" for log in logs)
            raise NoteError(f"the checkpoint is not signed by the policy's log ({keys})")
        witnessing = self.witnessing(note)
        if not witnessing.holds:
            raise NoteError(str(witnessing))
        return checkpoint


class _Parser:
    """The policy so far, line by line, and what each name was defined as, where."""

    def __init__(self) -> None:
        self.logs: list[PolicyLog] = []
        self.witnesses: list[PolicyWitness] = []
        self.groups: list[Group] = []
        self.defined: dict[bytes, int] = {}  # name -> the line defining it (witness or group)
        self.member_of: dict[bytes, int] = {}  # name -> the line of the group it is a member of
        self.log_keys: dict[bytes, int] = {}  # raw public key -> line
        self.witness_keys: dict[bytes, int] = {}
        self.quorum: tuple[bytes, int] | None = None

    def line(self, number: int, line: bytes) -> None:
        items = _WHITESPACE.split(line.strip(b" \t"))
        keyword, arguments = items[0], items[1:]
        if not keyword or keyword.startswith(b"#"):
            return
        handlers = {b"log": self.log, b"witness": self.witness, b"group": self.group, b"quorum": self.set_quorum}
        handler = handlers.get(keyword)
        if handler is None:
            raise PolicyError(number, f"unknown keyword {show_name(keyword)}: a line is {_KEYWORDS}")
        handler(number, arguments)

    def log(self, number: int, arguments: list[bytes]) -> None:
        if len(arguments) not in (1, 2):
            raise PolicyError(number, f"a log line is 'log <vkey> [<url>]', not {len(arguments)} items after 'log'")
        verifier = _vkey(number, arguments[0], ED25519, "log")
        _refuse_duplicate(number, self.log_keys, verifier, "log")
        _refuse_beyond(number, len(self.logs), LOGS_MAX, "logs")
        self.logs.append(PolicyLog(verifier, arguments[1] if len(arguments) == 2 else None, number))

    def witness(self, number: int, arguments: list[bytes]) -> None:
        if len(arguments) not in (2, 3):
            raise PolicyError(
                number, f"a witness line is 'witness <name> <vkey> [<url>]', not {len(arguments)} items after 'witness'"
            )
        name = arguments[0]
        self.define(number, name)
        verifier = _vkey(number, arguments[1], COSIGNATURE_V1, "witness")
        _refuse_duplicate(number, self.witness_keys, verifier, "witness")
        _refuse_beyond(number, len(self.witnesses), WITNESSES_MAX, "witnesses")
        self.witnesses.append(PolicyWitness(name, verifier, arguments[2] if len(arguments) == 3 else None, number))
        self.defined[name] = number

    def group(self, number: int, arguments: list[bytes]) -> None:
        if len(arguments) < 3:
            raise PolicyError(number, "a group line is 'group <name> all|any|<k> <name>...', with at least one member")
        name, members = arguments[0], arguments[2:]
        self.define(number, name)
        threshold = _threshold(number, arguments[1], len(members))
        for member in members:
            self.add_member(number, member, members)
        _refuse_beyond(number, len(self.groups), GROUPS_MAX, "groups")
        self.groups.append(Group(name, threshold, tuple(members), number))
        self.defined[name] = number

    def set_quorum(self, number: int, arguments: list[bytes]) -> None:
        if len(arguments) != 1:
            raise PolicyError(number, f"a quorum line is 'quorum <name>', not {len(arguments)} items after 'quorum'")
        if self.quorum is not None:
            raise PolicyError(number, f"a second quorum line: the quorum is defined on line {self.quorum[1]}")
        name = arguments[0]
        if name != NONE and name not in self.defined:
            raise PolicyError(number, f"the quorum {show_name(name)} is not a witness or group defined on a line above")
        self.quorum = (name, number)

    def define(self, number: int, name: bytes) -> None:
        if name == NONE:
            raise PolicyError(number, "the name 'none' is predefined (no cosignatures): choose another name")
        if name in self.defined:
            raise PolicyError(number, f"the name {show_name(name)} is defined already, on line {self.defined[name]}")

    def add_member(self, number: int, member: bytes, members: list[bytes]) -> None:
        if member == NONE:
            raise PolicyError(number, "'none' cannot be a group member (it can only be the quorum)")
        if member not in self.defined:
            raise PolicyError(
                number, f"the member {show_name(member)} is not a witness or group defined on a line above"
            )
        if members.count(member) > 1:
            raise PolicyError(number, f"the member {show_name(member)} is listed more than once")
        if member in self.member_of:
            raise PolicyError(
                number,
                f"{show_name(member)} is a member of the group on line {self.member_of[member]} already: "
                "a name is a group member at most once, so that it counts towards the quorum in one way only",
            )
        self.member_of[member] = number

    def finish(self) -> Policy:
        if self.quorum is None:
            raise PolicyError(
                None, "no quorum line: a policy has exactly one ('quorum none' to require no cosignature)"
            )
        return Policy(tuple(self.logs), tuple(self.witnesses), tuple(self.groups), self.quorum[0])


def _check_octets(data: bytes) -> None:
    """The file as a whole: within its limits, only the allowed octets, every line ended by LF."""
    if len(data) > POLICY_SIZE_MAX:
        raise PolicyError(None, f"a policy file is at most {POLICY_SIZE_MAX} bytes, this one has {len(data)}")
    forbidden = _FORBIDDEN.search(data)
    if forbidden:
        number = data.count(b"\n", 0, forbidden.start()) + 1
        octet = forbidden.group()[0]
        what = "a carriage return: lines end in LF alone" if octet == 0x0D else "a control character"
        raise PolicyError(
            number, f"octet 0x{octet:02X} ({what}); only tab, newline, 0x20-0x7E and 0x80-0xFF are allowed"
        )
    lines = data.count(b"\n")
    if lines > POLICY_LINES_MAX:
        raise PolicyError(None, f"a policy file has at most {POLICY_LINES_MAX} lines, this one has {lines}")
    if data and not data.endswith(b"\n"):
        raise PolicyError(lines + 1, "the last line does not end in a newline")


def _vkey(number: int, item: bytes, algorithm: int, role: str) -> Verifier:
    """A vkey of the signature type `role` needs: 0x01 for a log's checkpoints, 0x04 for a witness's cosignatures."""
    try:
        text = item.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(number, f"the {role}'s vkey is not UTF-8") from None
    found = _key_type(text)
    expected = f"signature type 0x{algorithm:02x} ({_KEY_TYPES[algorithm]})"
    if found is not None and found != algorithm:
        kind = _KEY_TYPES.get(found, "unassigned")
        raise PolicyError(number, f"a {role}'s key must be of {expected}, not 0x{found:02x} ({kind})")
    try:
        return Verifier.parse(text)
    except NoteError as error:
        raise PolicyError(number, f"the {role}'s vkey: {error}") from None


def _key_type(text: str) -> int | None:
    """The signature type byte a vkey claims, if it can be read at all."""
    parts = text.split("+", 2)  # a key name has no '+'; base64 may
    material = parts[2] if len(parts) == 3 else ""
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw[0] if raw else None


def _refuse_duplicate(number: int, seen: dict[bytes, int], verifier: Verifier, role: str) -> None:
    raw = verifier.public_key.public_bytes_raw()
    if raw in seen:
        raise PolicyError(number, f"the same public key as the {role} on line {seen[raw]} (key names aside)")
    seen[raw] = number


def _refuse_beyond(number: int, count: int, limit: int, kind: str) -> None:
    if count >= limit:
        raise PolicyError(number, f"more than {limit} {kind}, the most this verifier takes")


def _threshold(number: int, item: bytes, members: int) -> int:
    if item == b"all":
        return members
    if item == b"any":
        return 1
    if not _DECIMAL.fullmatch(item):
        raise PolicyError(number, f"the threshold {show_name(item)} is not all, any or a number k in decimal")
    digits = item.lstrip(b"0") or b"0"
    threshold = int(digits) if len(digits) <= 9 else members + 1
    if not 1 <= threshold <= members:
        raise PolicyError(number, f"the threshold {show_name(item)} is not from 1 to {members}, the members listed")
    return threshold


def show_name(name: bytes) -> str:
    """A policy name for a message: quoted, its octets shown as UTF-8 when they are printable text."""
    text = name[:100].decode("utf-8", "backslashreplace")
    return repr(text) if text.isprintable() else ascii(text)


def _names(names: tuple[bytes, ...]) -> str:
    return ", ".join(show_name(name) for name in names) if names else "none"
