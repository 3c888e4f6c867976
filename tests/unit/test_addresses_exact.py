"""Wallet addresses, exactly: each refusal's whole message at each bound, and the BIP 173 / BIP 350 vectors
that reach the checks a looser reading of bech32 would let through.

The vectors marked "made for this test" were encoded with the BIP 173 reference code (bech32 and bech32m,
hrp `bc`) or a plain Base58Check, written apart from `domain.addresses`, from the data given in the comment.
"""

from __future__ import annotations

import pytest

from domain.addresses import AddressError, Network, normalise_address

LEGACY = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"  # a known P2PKH address, 34 characters


def refusal(text: str) -> str:
    with pytest.raises(AddressError) as raised:
        normalise_address(text)
    assert type(raised.value) is AddressError
    return str(raised.value)


# Anything else, and EVM.


def test_text_of_no_network_is_refused_echoing_only_its_first_60_characters() -> None:
    assert refusal("x" * 61) == (
        f"'{'x' * 60}' is not a wallet address: expected 0x and 40 hex digits (EVM), "
        "bc1/tb1 (Bitcoin segwit), 1 or 3 (Bitcoin legacy) or T (TRON)"
    )


def test_a_long_malformed_evm_address_is_refused_echoing_only_its_first_60_characters() -> None:
    assert refusal("0x" + "g" * 59) == f"'0x{'g' * 58}' is not an EVM address: 0x and 40 hexadecimal digits"


# Base58Check: Bitcoin legacy and TRON.


@pytest.mark.parametrize(
    "text",
    [
        LEGACY[:24],  # one short of 25
        LEGACY + "22",  # one past 35
        LEGACY[:24] + "0",  # 25 characters, but 0 is no Base58 character
    ],
)
def test_a_legacy_address_outside_25_to_35_base58_characters_is_refused_saying_so(text: str) -> None:
    assert refusal(text) == f"'{text}' is not a Bitcoin P2PKH or P2SH address: 25 to 35 Base58 characters"


@pytest.mark.parametrize("text", [LEGACY[:25], LEGACY + "2"])  # 25 and 35 characters: read, then checked
def test_a_legacy_address_of_25_or_35_characters_is_read_and_refused_by_its_checksum(text: str) -> None:
    assert refusal(text) == (
        f"'{text}' is not a Bitcoin P2PKH or P2SH address: its Base58Check checksum is wrong (a mistyped character?)"
    )


def test_a_legacy_address_with_a_wrong_checksum_is_refused_saying_so() -> None:
    text = LEGACY[:-1] + "3"
    assert refusal(text) == (
        f"'{text}' is not a Bitcoin P2PKH or P2SH address: its Base58Check checksum is wrong (a mistyped character?)"
    )


def test_a_long_legacy_text_is_refused_echoing_only_its_first_60_characters() -> None:
    assert refusal(LEGACY * 2) == (
        f"'{(LEGACY * 2)[:60]}' is not a Bitcoin P2PKH or P2SH address: 25 to 35 Base58 characters"
    )


def test_a_p2pkh_address_whose_number_fills_all_24_bytes_is_kept_as_given() -> None:
    # Its hash160 starts with a byte of 0x80 or more: the Base58 number is 192 bits, no spare leading zero.
    assert normalise_address("1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY") == (
        Network.BITCOIN,
        "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY",
    )


def test_a_base58check_address_with_another_network_s_version_byte_is_refused_naming_it() -> None:
    tron_like = "TZJozAg1ruapycCicgz31GxvYJ1G1qELV7"  # made for this test: version 0x42, 20 zero bytes
    assert refusal(tron_like) == f"'{tron_like}' is not a TRON address: version byte 0x42"
    p2sh_like = "3R2cuenjG5nFubqX9Wzuukdin2YfLYZyD1"  # made for this test: version 0x06, 20 zero bytes
    assert refusal(p2sh_like) == f"'{p2sh_like}' is not a Bitcoin P2PKH or P2SH address: version byte 0x06"


# Segwit: bech32 (version 0) and bech32m (1 to 16).


def test_a_long_mixed_case_segwit_address_is_refused_echoing_only_its_first_60_characters() -> None:
    assert refusal("BC1" + "q" * 60) == f"'BC1{'q' * 57}' is not a segwit address: mixed case"


@pytest.mark.parametrize(
    "text",
    [
        "bc1qqqq",  # 7 characters, one short of 8
        "bc1" + "q" * 88,  # 91 characters, one past 90
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb",  # b is no bech32 character
        "bc1qqqqqq1qqqqqqqq",  # a second 1: the part before the last 1 is no bc or tb
    ],
)
def test_a_segwit_address_of_the_wrong_length_or_characters_is_refused_saying_so(text: str) -> None:
    assert refusal(text) == f"'{text[:60]}' is not a segwit address: bc1 or tb1 and bech32 characters"


def test_a_long_segwit_text_of_other_characters_is_refused_echoing_only_its_first_60_characters() -> None:
    assert refusal("bc1" + "b" * 60) == f"'bc1{'b' * 57}' is not a segwit address: bc1 or tb1 and bech32 characters"


@pytest.mark.parametrize(
    "text",
    [
        "bc1qqqqq",  # 8 characters: long enough to be read, too short for a checksum
        "bc1" + "q" * 87,  # 90 characters: read, and its checksum is wrong
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # BIP 173: invalid checksum
        "bc1gmk9yu",  # BIP 173 / 350: a valid checksum, but an empty data section
    ],
)
def test_a_segwit_address_with_no_valid_checksum_is_refused_saying_so(text: str) -> None:
    assert refusal(text) == f"'{text}' is not a segwit address: its checksum is wrong (a mistyped character?)"


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("bc1pdg93mv", 1),  # made for this test: version 1, no program at all (7 data characters)
        ("bc1pw5dgrnzv", 1),  # BIP 350: a program of 1 byte
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", 1),  # BIP 350: 41 bytes
        ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", 17),  # BIP 350: version 17, bech32m
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", 0),  # BIP 173: non-zero padding
        ("bc1pqqqg7vh77d", 1),  # made for this test: 2 bytes and 4 bits of padding, the highest set
        ("bc1pqqqpaw88az", 1),  # made for this test: 2 bytes and 4 bits of padding, the lowest set
        ("bc1pqqqqqqqqqvauxw5", 1),  # made for this test: 5 bytes and 5 zero bits: more than 4 bits of padding
    ],
)
def test_a_segwit_address_with_a_bad_witness_version_or_program_is_refused_naming_the_version(
    text: str, version: int
) -> None:
    assert refusal(text) == f"'{text}' is not a segwit address: witness version {version} or its program"


@pytest.mark.parametrize(
    "address",
    [
        "BC1SW50QGDZ25J",  # BIP 350: version 16, the highest, with a program of 2 bytes, the fewest
        "bc1pqqqqqqqqne7r25",  # made for this test: version 1, 5 zero bytes, no padding
        "bc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpc02p7z",  # made for this test: version 0, 19 zero bytes and 0x01
    ],
)
def test_a_segwit_address_at_the_bounds_of_its_version_and_program_is_kept_in_lower_case(address: str) -> None:
    assert normalise_address(address) == (Network.BITCOIN, address.lower())
