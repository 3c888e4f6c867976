"""Proof of liabilities: Merkle-sum trees whose every leaf a client can check,
and whose every tampering (a balance, a sum, a salt, the statement) is caught.

`independent_root` re-implements the README's encoding from its text alone,
so the documented format, not only this module, is what the proofs follow."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.liabilities import (
    SUM_LIMIT,
    Built,
    LiabilitiesError,
    Node,
    build,
    open_statement,
    parent,
    parse_statement,
    prove,
    read_tree,
    verify_proof,
)
from ledger.audit.notes import Checkpoint, NoteError, Signer, sign

ORIGIN = "bank.example/ledger"
SIGNER = Signer(ORIGIN, Ed25519PrivateKey.generate())
KEY = SIGNER.verifier.encode()
CHECKPOINT = (43, hashlib.sha256(b"the log's root").digest())


def built_from(balances: dict[str, dict[str, int]], scales: dict[str, int] | None = None) -> Built:
    scales = scales or dict.fromkeys(balances, 2)
    return build(SIGNER, CHECKPOINT, scales, balances)


# The README's encoding, written again from its text.


def _sum(value: int) -> bytes:
    assert 0 <= value < 2**128
    return value.to_bytes(16, "big")


def _prefixed(text: str) -> bytes:
    return len(text.encode()).to_bytes(2, "big") + text.encode()


def independent_root(asset: str, client: str, entry: dict[str, Any]) -> tuple[bytes, int]:
    salt = base64.b64decode(entry["salt"])
    tag = b"ledger-liabilities/v1 commitment\x00"
    commitment = hashlib.sha256(tag + _prefixed(asset) + _prefixed(client) + salt).digest()
    balance = int(entry["balance_minor"])
    node = (hashlib.sha256(b"\x00" + commitment + _sum(balance)).digest(), balance)

    def join(left: tuple[bytes, int], right: tuple[bytes, int]) -> tuple[bytes, int]:
        digest = hashlib.sha256(b"\x01" + _sum(left[1]) + left[0] + _sum(right[1]) + right[0]).digest()
        return digest, left[1] + right[1]

    fn, sn = entry["index"], entry["size"] - 1
    for step in entry["path"]:
        sibling = (base64.b64decode(step["hash"]), int(step["sum_minor"]))
        if fn & 1 or fn == sn:
            node = join(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = join(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return node


@pytest.mark.parametrize("clients", range(1, 18))
def test_every_client_of_a_tree_of_any_size_proves_their_balance_by_the_documented_encoding(clients: int) -> None:
    balances = {"BYN": {f"client-{n}": 100 * n + 1 for n in range(clients)}}
    built = built_from(balances)
    stated = built.statement.asset("BYN")
    assert (stated.clients, stated.total) == (clients, sum(balances["BYN"].values()))
    for client, balance in balances["BYN"].items():
        proof = prove(built, client)
        assert verify_proof(proof, [KEY]).balances == {"BYN": balance}
        assert independent_root("BYN", client, proof["entries"][0]) == (stated.root, stated.total)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text("abcxyz-", min_size=1, max_size=6), st.integers(1, 10**36), min_size=1, max_size=40))
def test_any_set_of_balances_sums_to_its_total_and_every_proof_holds(held: dict[str, int]) -> None:
    built = built_from({"ETH": held}, {"ETH": 18})
    assert built.statement.asset("ETH").total == sum(held.values())
    for client, balance in held.items():
        assert verify_proof(prove(built, client), [KEY]).balances == {"ETH": balance}


def test_a_client_gets_one_entry_for_each_asset_they_hold_and_none_for_the_others() -> None:
    built = built_from({"BYN": {"anna": 5, "boris": 7}, "USDT": {"anna": 9}, "BTC": {}})
    assert [entry["asset"] for entry in prove(built, "anna")["entries"]] == ["BYN", "USDT"]
    assert [entry["asset"] for entry in prove(built, "boris")["entries"]] == ["BYN"]
    assert built.statement.asset("BTC").clients == 0
    with pytest.raises(LiabilitiesError, match="holds nothing"):
        prove(built, "nobody")


def test_zero_balances_are_left_out_and_a_negative_one_refuses_the_build() -> None:
    assert built_from({"BYN": {"anna": 0, "boris": 3}}).statement.asset("BYN").clients == 1
    with pytest.raises(LiabilitiesError, match="negative"):
        built_from({"BYN": {"anna": -1, "boris": 3}})


def test_the_leaves_are_in_commitment_order_so_their_places_say_nothing_of_the_clients() -> None:
    built = built_from({"BYN": {f"c{n:02d}": 1 for n in range(32)}})
    order = [h.client_id for h in built.trees["BYN"].holdings]
    assert sorted(order) == [f"c{n:02d}" for n in range(32)]
    assert order != sorted(order)  # 1 in 32! that salted commitments sort as the ids do


def proof_of(balances: dict[str, int], client: str) -> dict[str, Any]:
    return prove(built_from({"BYN": balances}), client)


BALANCES = {"anna": 500, "boris": 300, "clara": 200, "dmitri": 100, "elena": 50}


def test_a_balance_raised_in_a_proof_is_caught() -> None:
    proof = proof_of(BALANCES, "anna")
    proof["entries"][0]["balance_minor"] = "501"
    with pytest.raises(LiabilitiesError, match="another root"):
        verify_proof(proof, [KEY])


def test_value_moved_from_a_sibling_sum_to_the_client_is_caught() -> None:
    """The flaw of Maxwell's first design: there, a node hashed only its own
    total, so a sibling's sum could be lowered by what a leaf was raised."""
    proof = proof_of(BALANCES, "anna")
    entry = proof["entries"][0]
    entry["balance_minor"] = str(int(entry["balance_minor"]) + 10)
    entry["path"][0]["sum_minor"] = str(int(entry["path"][0]["sum_minor"]) - 10)
    with pytest.raises(LiabilitiesError, match="another root"):
        verify_proof(proof, [KEY])


def test_a_negative_sum_on_the_path_is_refused_by_name() -> None:
    proof = proof_of(BALANCES, "anna")
    proof["entries"][0]["path"][0]["sum_minor"] = "-5"
    with pytest.raises(LiabilitiesError, match="path step 0: the sum is negative"):
        verify_proof(proof, [KEY])


def test_a_sum_beyond_128_bits_is_refused_as_an_overflow() -> None:
    proof = proof_of(BALANCES, "anna")
    proof["entries"][0]["path"][0]["sum_minor"] = str(SUM_LIMIT)
    with pytest.raises(LiabilitiesError, match="overflows 128 bits"):
        verify_proof(proof, [KEY])


def test_a_node_whose_children_sum_beyond_128_bits_is_refused_not_wrapped() -> None:
    big = Node(bytes(32), SUM_LIMIT - 1)
    with pytest.raises(LiabilitiesError, match="outside"):
        parent(big, Node(bytes(32), 1))


def test_a_changed_salt_is_caught() -> None:
    proof = proof_of(BALANCES, "anna")
    salt = bytearray(base64.b64decode(proof["entries"][0]["salt"]))
    salt[0] ^= 1
    proof["entries"][0]["salt"] = base64.b64encode(bytes(salt)).decode()
    with pytest.raises(LiabilitiesError, match="another root"):
        verify_proof(proof, [KEY])


def test_a_proof_given_to_another_client_does_not_hold_for_them() -> None:
    proof = proof_of(BALANCES, "anna")
    proof["client_id"] = "boris"
    with pytest.raises(LiabilitiesError, match="another root"):
        verify_proof(proof, [KEY])


def test_an_edited_statement_fails_its_signature_and_another_bank_key_is_refused() -> None:
    proof = proof_of(BALANCES, "anna")
    edited = copy.deepcopy(proof)
    edited["note"] = proof["note"].replace("asset BYN 2 5 1150", "asset BYN 2 5 1149")
    assert edited["note"] != proof["note"]
    with pytest.raises(LiabilitiesError, match="does not verify"):
        verify_proof(edited, [KEY])
    other = Signer(ORIGIN, Ed25519PrivateKey.generate()).verifier.encode()
    with pytest.raises(LiabilitiesError, match="not signed by"):
        verify_proof(proof, [other])


def test_a_tree_whose_leaf_balance_was_changed_no_longer_matches_its_statement() -> None:
    document = built_from({"BYN": BALANCES}).tree_document()
    assert read_tree(document, [KEY]).statement.asset("BYN").total == 1150
    document["assets"]["BYN"][2]["balance_minor"] = "1"
    with pytest.raises(LiabilitiesError, match="the leaves sum to"):
        read_tree(document, [KEY])


def test_a_tree_with_a_leaf_left_out_is_caught_by_its_count() -> None:
    document = built_from({"BYN": BALANCES}).tree_document()
    del document["assets"]["BYN"][0]
    with pytest.raises(LiabilitiesError, match="4 leaves, the statement says 5"):
        read_tree(document, [KEY])


def test_the_statement_is_exactly_its_canonical_text_and_never_reads_as_a_checkpoint() -> None:
    statement = built_from({"BYN": BALANCES, "USDT": {"anna": 1}}).statement
    assert parse_statement(statement.text()) == statement
    with pytest.raises(NoteError):
        Checkpoint.parse(statement.text())
    with pytest.raises(LiabilitiesError, match="decimal count, got '02'"):
        parse_statement(statement.text().replace("asset BYN 2 5 ", "asset BYN 02 5 "))
    lines = statement.text().splitlines()
    with pytest.raises(LiabilitiesError, match="once, by code"):
        parse_statement("\n".join([*lines[:3], lines[4], lines[3]]) + "\n")


def test_a_checkpoint_signed_by_the_bank_is_not_taken_for_a_statement() -> None:
    note = sign(Checkpoint(ORIGIN, 43, CHECKPOINT[1]).text(), [SIGNER])
    with pytest.raises(LiabilitiesError, match="not a ledger-liabilities/v1 statement"):
        open_statement(note, [KEY])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("entries"), "no entries"),
        (lambda p: p["entries"][0].update(index="0"), "integers"),
        (lambda p: p["entries"][0].update(size=99), "for 99 leaves"),
        (lambda p: p["entries"][0]["path"].pop(), "shorter than the tree is deep"),
        (lambda p: p["entries"][0]["path"].append(p["entries"][0]["path"][0]), "longer than the tree is deep"),
        (lambda p: p["entries"][0].update(asset="EUR"), "no asset 'EUR'"),
        (lambda p: p["entries"][0]["path"][0].update(hash="AAAA"), "32 bytes"),
        (lambda p: p["entries"][0].update(balance_minor=12), "decimal string"),
        (lambda p: p.update(format="other"), "not a ledger-liabilities-proof/v1"),
    ],
)
def test_a_malformed_proof_is_refused_with_what_is_wrong(change: Any, message: str) -> None:
    proof = proof_of(BALANCES, "anna")
    change(proof)
    with pytest.raises(LiabilitiesError, match=message):
        verify_proof(proof, [KEY])
