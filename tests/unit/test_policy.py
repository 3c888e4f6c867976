"""C2SP tlog-policy files: every rule of the spec refused with its line, and quorums evaluated."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.notes import COSIGNATURE_V1, ED25519, Checkpoint, Note, NoteError, Signer, Verifier, cosign, sign
from ledger.audit.policy import (
    GROUPS_MAX,
    LOGS_MAX,
    POLICY_LINES_MAX,
    POLICY_SIZE_MAX,
    WITNESSES_MAX,
    Policy,
    PolicyError,
)

ORIGIN = "bank.example/log"


def log_key(name: str = ORIGIN) -> str:
    return Verifier(name, ED25519, Ed25519PrivateKey.generate().public_key()).encode()


def witness_key(name: str = "witness.example") -> str:
    return Verifier(name, COSIGNATURE_V1, Ed25519PrivateKey.generate().public_key()).encode()


def refusal(text: str | bytes) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        Policy.parse(text.encode() if isinstance(text, str) else text)
    return caught.value


def spec_example() -> str:
    """The spec's example policy, with real keys: two organisations' witnesses, both required."""
    lines = [f"log {log_key()}", ""]
    lines += [f"witness X{n} {witness_key(f'x{n}.example')}" for n in (1, 2, 3)]
    lines += ["group X-witnesses 2 X1 X2 X3", ""]
    lines += [f"witness Y{n} {witness_key(f'y{n}.example')}" for n in (1, 2, 3)]
    lines += ["group Y-witnesses any Y1 Y2 Y3", "", "group X-and-Y all X-witnesses Y-witnesses", "quorum X-and-Y"]
    return "\n".join(lines) + "\n"


# Accepted files.


def test_the_spec_example_parses_into_its_logs_witnesses_groups_and_quorum() -> None:
    policy = Policy.parse(spec_example().encode())
    assert [log.verifier.name for log in policy.logs] == [ORIGIN]
    assert [w.name for w in policy.witnesses] == [b"X1", b"X2", b"X3", b"Y1", b"Y2", b"Y3"]
    assert [(g.name, g.threshold) for g in policy.groups] == [(b"X-witnesses", 2), (b"Y-witnesses", 1), (b"X-and-Y", 2)]
    assert policy.quorum == b"X-and-Y"


def test_comments_blank_lines_tabs_and_leading_or_trailing_whitespace_are_ignored() -> None:
    text = (
        f"# a comment\n\n \t\n\t # an indented comment\n \tlog\t{log_key()}  \t\n"
        f"witness  W {witness_key()}\t\n quorum W \n"
    )
    policy = Policy.parse(text.encode())
    assert len(policy.logs) == 1
    assert policy.quorum == b"W"


def test_urls_are_optional_and_kept() -> None:
    text = f"log {log_key()} https://bank.example/log/\nwitness W {witness_key()} https://w.example/\nquorum none\n"
    policy = Policy.parse(text.encode())
    assert policy.logs[0].url == b"https://bank.example/log/"
    assert policy.witnesses[0].url == b"https://w.example/"


def test_a_policy_needs_only_a_quorum_line() -> None:
    policy = Policy.parse(b"quorum none\n")
    assert (policy.logs, policy.witnesses, policy.groups, policy.quorum) == ((), (), (), b"none")


def test_names_are_opaque_octets_so_k_and_the_kelvin_sign_are_two_witnesses() -> None:
    text = f"witness K {witness_key()}\nwitness \u212a {witness_key()}\ngroup both all K \u212a\nquorum both\n"
    policy = Policy.parse(text.encode())
    assert [w.name for w in policy.witnesses] == [b"K", b"\xe2\x84\xaa"]


def test_non_utf8_octets_are_allowed_in_names_and_comments() -> None:
    policy = Policy.parse(b"# caf\xe9\nwitness caf\xe9 " + witness_key().encode() + b"\nquorum caf\xe9\n")
    assert policy.quorum == b"caf\xe9"


def test_lines_may_come_in_any_order_as_long_as_names_are_defined_before_use() -> None:
    text = f"witness W {witness_key()}\nquorum W\nlog {log_key()}\ngroup late any W\n"
    assert Policy.parse(text.encode()).quorum == b"W"


def test_a_threshold_is_all_any_or_a_decimal_number_from_one_to_n() -> None:
    keys = "".join(f"witness W{n} {witness_key()}\n" for n in range(3))
    for threshold, expected in (("all", 3), ("any", 1), ("1", 1), ("3", 3), ("02", 2)):
        policy = Policy.parse(f"{keys}group g {threshold} W0 W1 W2\nquorum g\n".encode())
        assert policy.groups[0].threshold == expected


def test_the_implementation_takes_at_least_32_logs_witnesses_and_groups() -> None:
    lines = [f"log {log_key()}" for _ in range(32)]
    lines += [f"witness W{n} {witness_key()}" for n in range(32)]
    lines += [f"group G{n} any W{n}" for n in range(32)]
    lines += ["group all-of-them all " + " ".join(f"G{n}" for n in range(31)), "quorum all-of-them"]
    policy = Policy.parse(("\n".join(lines) + "\n").encode())
    assert (len(policy.logs), len(policy.witnesses), len(policy.groups)) == (32, 32, 33)


# Refused files: each names its line.


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("quorum none\nquorum none\n", 2, "a second quorum line: the quorum is defined on line 1"),
        ("quorum W\n", 1, "'W' is not a witness or group defined on a line above"),
        ("frobnicate x\nquorum none\n", 1, "unknown keyword 'frobnicate'"),
        ("QUORUM none\n", 1, "unknown keyword 'QUORUM'"),
        ("quorum\n", 1, "a quorum line is 'quorum <name>'"),
        ("quorum a b\n", 1, "a quorum line is 'quorum <name>'"),
        ("log\n", 1, "a log line is 'log <vkey> [<url>]'"),
        ("witness W\n", 1, "a witness line is 'witness <name> <vkey> [<url>]'"),
        ("group g any\n", 1, "at least one member"),
        ("log not-a-key\n", 1, "the log's vkey"),
    ],
)
def test_malformed_lines_are_refused_with_their_line_number(text: str, line: int, reason: str) -> None:
    error = refusal(text)
    assert error.line == line
    assert reason in str(error)
    assert str(error).startswith(f"line {line}: ")


def test_a_policy_without_a_quorum_line_is_refused() -> None:
    assert "no quorum line" in str(refusal(f"log {log_key()}\n"))
    assert "no quorum line" in str(refusal(b""))


def test_a_name_used_before_its_definition_is_refused() -> None:
    error = refusal(f"group g any W\nwitness W {witness_key()}\nquorum g\n")
    assert (error.line, error.reason) == (1, "the member 'W' is not a witness or group defined on a line above")


def test_a_group_cannot_name_itself() -> None:
    error = refusal(f"witness W {witness_key()}\ngroup g any W g\nquorum g\n")
    assert error.line == 2
    assert "'g' is not a witness or group defined" in error.reason


def test_none_is_predefined_and_cannot_be_redefined_or_be_a_group_member() -> None:
    assert "predefined" in refusal(f"witness none {witness_key()}\nquorum none\n").reason
    assert "predefined" in refusal(f"witness W {witness_key()}\ngroup none any W\nquorum none\n").reason
    error = refusal(f"witness W {witness_key()}\ngroup g any W none\nquorum g\n")
    assert (error.line, error.reason) == (2, "'none' cannot be a group member (it can only be the quorum)")


def test_witnesses_and_groups_share_one_namespace() -> None:
    error = refusal(f"witness W {witness_key()}\ngroup W any W\nquorum W\n")
    assert (error.line, error.reason) == (2, "the name 'W' is defined already, on line 1")
    error = refusal(f"witness W {witness_key()}\nwitness W {witness_key()}\nquorum W\n")
    assert (error.line, error.reason) == (2, "the name 'W' is defined already, on line 1")


def test_a_member_listed_twice_in_a_group_is_refused() -> None:
    error = refusal(f"witness W {witness_key()}\nwitness V {witness_key()}\ngroup g 2 W V W\nquorum g\n")
    assert error.line == 3
    assert "'W' is listed more than once" in error.reason


def test_a_member_of_two_groups_is_refused_so_that_it_counts_towards_the_quorum_once() -> None:
    text = f"witness W {witness_key()}\nwitness V {witness_key()}\ngroup a any W\ngroup b any W V\ngroup q all a b\n"
    error = refusal(text + "quorum q\n")
    assert error.line == 4
    assert "'W' is a member of the group on line 3 already" in error.reason


@pytest.mark.parametrize("threshold", ["0", "3", "-1", "+1", "1.0", "0x1", "two", "ALL", "\u0661", "9" * 40])
def test_a_threshold_outside_one_to_n_or_not_in_decimal_is_refused(threshold: str) -> None:
    error = refusal(f"witness W {witness_key()}\nwitness V {witness_key()}\ngroup g {threshold} W V\nquorum g\n")
    assert error.line == 3
    assert "threshold" in error.reason


def test_duplicate_logs_are_refused_even_under_another_key_name() -> None:
    private = Ed25519PrivateKey.generate().public_key()
    first, renamed = Verifier(ORIGIN, ED25519, private), Verifier("another.example/log", ED25519, private)
    error = refusal(f"log {first.encode()}\nlog {renamed.encode()}\nquorum none\n")
    assert (error.line, error.reason) == (2, "the same public key as the log on line 1 (key names aside)")
    assert refusal(f"log {first.encode()}\nlog {first.encode()} https://mirror.example\nquorum none\n").line == 2


def test_duplicate_witnesses_are_refused_even_under_another_key_name() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    first, renamed = Verifier("a.example", COSIGNATURE_V1, public), Verifier("b.example", COSIGNATURE_V1, public)
    error = refusal(f"witness A {first.encode()}\nwitness B {renamed.encode()}\nquorum A\n")
    assert (error.line, error.reason) == (2, "the same public key as the witness on line 1 (key names aside)")


def test_a_log_key_must_sign_checkpoints_and_a_witness_key_cosign_them() -> None:
    error = refusal(f"log {witness_key()}\nquorum none\n")
    assert "a log's key must be of signature type 0x01 (Ed25519), not 0x04" in error.reason
    error = refusal(f"witness W {log_key('w.example')}\nquorum W\n")
    assert "a witness's key must be of signature type 0x04 (Ed25519 cosignature), not 0x01" in error.reason


def test_a_vkey_with_a_wrong_key_id_is_refused() -> None:
    name, key_id, material = log_key().split("+", 2)
    wrong = f"{name}+{'0' * 8 if key_id != '0' * 8 else '1' * 8}+{material}"
    assert "the key id does not match" in refusal(f"log {wrong}\nquorum none\n").reason


@pytest.mark.parametrize(
    ("octets", "shown"),
    [(b"\r", "0x0D (a carriage return"), (b"\x00", "0x00"), (b"\x0b", "0x0B"), (b"\x7f", "0x7F"), (b"\x1b", "0x1B")],
)
def test_control_octets_other_than_tab_and_newline_are_refused_with_their_line(octets: bytes, shown: str) -> None:
    error = refusal(b"# fine\n# not" + octets + b" fine\nquorum none\n")
    assert error.line == 2
    assert shown in error.reason


def test_a_last_line_without_its_newline_is_refused() -> None:
    error = refusal(b"# every line ends in LF\nquorum none")
    assert (error.line, error.reason) == (2, "the last line does not end in a newline")


def test_a_file_too_large_or_with_too_many_lines_is_refused_before_it_is_read() -> None:
    assert f"at most {POLICY_SIZE_MAX} bytes" in str(refusal(b"#" * POLICY_SIZE_MAX + b"\nquorum none\n"))
    assert f"at most {POLICY_LINES_MAX} lines" in str(refusal(b"\n" * POLICY_LINES_MAX + b"quorum none\n"))


@pytest.mark.parametrize(("kind", "limit"), [("logs", LOGS_MAX), ("witnesses", WITNESSES_MAX), ("groups", GROUPS_MAX)])
def test_more_logs_witnesses_or_groups_than_the_limit_are_refused(kind: str, limit: int) -> None:
    if kind == "logs":
        lines = [f"log {log_key()}" for _ in range(limit + 1)]
    elif kind == "witnesses":
        lines = [f"witness W{n} {witness_key()}" for n in range(limit + 1)]
    else:
        lines = [f"witness W {witness_key()}", "group G0 any W"]
        lines += [f"group G{n} any G{n - 1}" for n in range(1, limit + 1)]
    error = refusal("\n".join(lines) + "\nquorum none\n")
    assert f"more than {limit} {kind}" in error.reason
    assert error.line == len(lines)


# Quorums.


def test_the_spec_example_needs_two_x_witnesses_and_one_y_witness() -> None:
    policy = Policy.parse(spec_example().encode())
    assert policy.holds([b"X1", b"X2", b"Y3"])
    assert policy.holds([b"X1", b"X2", b"X3", b"Y1", b"Y2", b"Y3"])
    assert not policy.holds([b"X1", b"Y1", b"Y2", b"Y3"])  # one X is not two
    assert not policy.holds([b"X1", b"X2", b"X3"])  # no Y
    assert not policy.holds([])


def test_group_names_among_the_cosigners_do_not_count_as_cosignatures() -> None:
    policy = Policy.parse(spec_example().encode())
    assert not policy.holds([b"X-witnesses", b"Y-witnesses"])
    assert not policy.holds([b"X-and-Y"])


def test_quorum_none_holds_without_any_cosignature() -> None:
    policy = Policy.parse(f"witness W {witness_key()}\nquorum none\n".encode())
    assert policy.holds([])


def test_a_single_witness_quorum_needs_that_witness() -> None:
    policy = Policy.parse(f"witness W {witness_key()}\nwitness V {witness_key()}\nquorum W\n".encode())
    assert policy.holds([b"W"])
    assert not policy.holds([b"V"])


# Checkpoints under a policy.


def test_a_checkpoint_is_accepted_when_its_log_signed_it_and_the_quorum_cosigned_it() -> None:
    bank = Signer(ORIGIN, Ed25519PrivateKey.generate())
    x1, x2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = (
        f"log {bank.verifier.encode()}\n"
        f"witness X1 {Verifier('x1.example', COSIGNATURE_V1, x1.public_key()).encode()}\n"
        f"witness X2 {Verifier('x2.example', COSIGNATURE_V1, x2.public_key()).encode()}\n"
        "group X 2 X1 X2\nquorum X\n"
    )
    policy = Policy.parse(text.encode())
    checkpoint = Checkpoint(ORIGIN, 3, bytes(32))
    note = Note.parse(sign(checkpoint.text(), [bank]))
    once = cosign(note, "x1.example", x1, 1_700_000_000)
    with pytest.raises(NoteError, match=r"quorum 'X' is not met: valid cosignatures by 'X1'.*no cosignature by 'X2'"):
        policy.check_checkpoint(once)
    assert policy.check_checkpoint(cosign(once, "x2.example", x2, 1_700_000_001)) == checkpoint


def test_a_cosignature_that_does_not_verify_counts_as_absent_and_an_unknown_one_is_ignored() -> None:
    bank = Signer(ORIGIN, Ed25519PrivateKey.generate())
    real, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    witness = Verifier("w.example", COSIGNATURE_V1, real.public_key())
    policy = Policy.parse(f"log {bank.verifier.encode()}\nwitness W {witness.encode()}\nquorum W\n".encode())
    note = Note.parse(sign(Checkpoint(ORIGIN, 3, bytes(32)).text(), [bank]))
    cosigned = cosign(note, "w.example", real, 1_700_000_000)
    forged = Note(note.text.replace("\n3\n", "\n4\n"), cosigned.signatures)  # a body the witness never saw
    witnessing = policy.witnessing(forged)
    assert (witnessing.valid, witnessing.invalid, witnessing.holds) == ((), (b"W",), False)
    by_stranger = cosign(note, "stranger.example", stranger, 1_700_000_000)
    assert policy.witnessing(by_stranger).absent == (b"W",)


def test_a_checkpoint_whose_origin_no_policy_log_is_named_after_is_refused() -> None:
    bank = Signer("other.example/log", Ed25519PrivateKey.generate())
    policy = Policy.parse(f"log {bank.verifier.encode()}\nquorum none\n".encode())
    note = Note.parse(sign(Checkpoint(ORIGIN, 3, bytes(32)).text(), [bank]))
    with pytest.raises(NoteError, match="no log of the policy has the checkpoint's origin"):
        policy.check_checkpoint(note)
