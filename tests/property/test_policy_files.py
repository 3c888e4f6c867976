"""Policy files, generated: any octets are a policy or one `PolicyError` naming a line, and quorums are monotone.

Structure-aware: lines built from the policy's keywords, defined and
undefined names, thresholds, real and broken vkeys, whitespace of both kinds
and stray octets, so that most examples get past the first line.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.notes import COSIGNATURE_V1, ED25519, Verifier
from ledger.audit.policy import Policy, PolicyError


def key(name: str, algorithm: int) -> str:
    return Verifier(name, algorithm, Ed25519PrivateKey.generate().public_key()).encode()


LOG_KEY = key("bank.example/log", ED25519)
WITNESS_KEY = key("w.example", COSIGNATURE_V1)
SPEC_EXAMPLE = (
    f"log {LOG_KEY}\n"
    + "".join(f"witness {name} {key(name.lower(), COSIGNATURE_V1)}\n" for name in ("X1", "X2", "X3", "Y1", "Y2", "Y3"))
    + "group X-witnesses 2 X1 X2 X3\ngroup Y-witnesses any Y1 Y2 Y3\n"
    + "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n"
)

names = st.sampled_from([b"W", b"V", b"G", b"none", b"all", b"\xe2\x84\xaa", b"#x"])
thresholds = st.sampled_from([b"any", b"all", b"0", b"1", b"2", b"07", b"-1"])
vkeys = st.sampled_from([LOG_KEY.encode(), WITNESS_KEY.encode(), LOG_KEY.encode()[:-2], b"a+b+c"])
keywords = st.sampled_from([b"log", b"witness", b"group", b"quorum", b"#", b""])
stray = st.binary(min_size=1, max_size=4)
items = st.one_of(names, names, thresholds, vkeys, vkeys, st.just(b"https://x.example"), stray)
separators = st.sampled_from([b" ", b"\t", b" \t  "])
lines = st.tuples(keywords, st.lists(items, max_size=5), separators).map(
    lambda drawn: drawn[2].join([drawn[0], *drawn[1]])
)
files = st.lists(lines, max_size=12).map(lambda all_lines: b"".join(line + b"\n" for line in all_lines))
SPEC_LINES = SPEC_EXAMPLE.encode().splitlines()
# The spec example with two lines swapped, or one dropped or repeated: some still valid, most refused.
mutated = st.tuples(st.integers(0, len(SPEC_LINES) - 1), st.integers(0, len(SPEC_LINES) - 1), st.integers(0, 2)).map(
    lambda drawn: _mutate(SPEC_LINES, *drawn)
)


def _mutate(lines: list[bytes], first: int, second: int, how: int) -> bytes:
    changed = list(lines)
    if how == 0:
        changed[first], changed[second] = changed[second], changed[first]
    elif how == 1:
        del changed[first]
    else:
        changed.insert(second, changed[first])
    return b"".join(line + b"\n" for line in changed)


@settings(max_examples=300, deadline=None)
@given(st.one_of(files, mutated, st.binary(max_size=400)))
def test_any_octets_are_a_policy_or_one_refusal_naming_a_line(data: bytes) -> None:
    refusal = refusal_of(data)
    if refusal is not None:
        assert refusal.line is None or 1 <= refusal.line <= data.count(b"\n") + 1
        assert "\n" not in str(refusal)


def refusal_of(data: bytes) -> PolicyError | None:
    try:
        Policy.parse(data)
    except PolicyError as error:
        return error
    return None


@settings(max_examples=100, deadline=None)
@given(st.sets(st.sampled_from([b"X1", b"X2", b"X3", b"Y1", b"Y2", b"Y3"])), st.sampled_from([b"X1", b"Y1", b"Y3"]))
def test_one_more_cosignature_never_breaks_a_quorum(cosigned: set[bytes], another: bytes) -> None:
    policy = Policy.parse(SPEC_EXAMPLE.encode())
    if policy.holds(cosigned):
        assert policy.holds(cosigned | {another})
