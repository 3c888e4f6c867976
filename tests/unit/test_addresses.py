"""Wallet addresses are read by their network's format and kept in one spelling."""

from __future__ import annotations

import hashlib

import pytest

from domain.addresses import AddressError, Network, eip55, keccak256, normalise_address

EIP55_EXAMPLES = [  # the EIP's own test cases
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]


def test_keccak256_is_the_original_keccak_not_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert keccak256(b"").hex() != hashlib.sha3_256(b"").hexdigest()


@pytest.mark.parametrize("length", [1, 55, 135, 136, 137, 271, 272, 273, 1000])
def test_keccak256_agrees_with_pycryptodome_at_every_block_boundary(length: int) -> None:
    from Crypto.Hash import keccak  # noqa: PLC0415 (the oracle: a C implementation)

    data = bytes(range(256)) * (length // 256 + 1)
    assert keccak256(data[:length]) == keccak.new(digest_bits=256, data=data[:length]).digest()


@pytest.mark.parametrize("address", EIP55_EXAMPLES)
def test_an_evm_address_is_kept_in_its_eip55_spelling_whatever_its_case(address: str) -> None:
    expected = eip55(address[2:])
    if address[2:] != address[2:].lower() and address[2:] != address[2:].upper():
        assert expected == address  # the mixed-case examples are their own checksums
    for spelling in (address, address.lower(), "0x" + address[2:].upper()):
        assert normalise_address(spelling) == (Network.EVM, expected)


def test_a_mixed_case_evm_address_with_a_wrong_checksum_is_refused_naming_its_spelling() -> None:
    wrong = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # last letter's case flipped
    with pytest.raises(
        AddressError, match="wrong EIP-55 checksum: it is spelled 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    ):
        normalise_address(wrong)


@pytest.mark.parametrize("text", ["0x123", "0x" + "g" * 40, "0X" + "a" * 40, "0x" + "a" * 41, "0x" + "a" * 39 + "\n"])
def test_a_malformed_evm_address_is_refused(text: str) -> None:
    with pytest.raises(AddressError, match="not an EVM address"):
        normalise_address(text)


@pytest.mark.parametrize(
    "address",
    [
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # BIP 173, version 0
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # BIP 350, version 1
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    ],
)
def test_a_segwit_address_is_kept_in_lower_case(address: str) -> None:
    assert normalise_address(address) == (Network.BITCOIN, address.lower())


@pytest.mark.parametrize(
    "address",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # checksum
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3t4",  # mixed case
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",  # bech32 for v1
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
        "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # BIP 350: invalid padding
    ],
)
def test_an_invalid_segwit_address_is_refused(address: str) -> None:
    with pytest.raises(AddressError, match="segwit"):
        normalise_address(address)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Network.BITCOIN),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Network.BITCOIN),
        ("TLyqzVGLV1srkB7dToTAEqgDSfPtXRJZYH", Network.TRON),
    ],
)
def test_a_base58check_address_is_kept_as_given(address: str, network: Network) -> None:
    assert normalise_address(address) == (network, address)


@pytest.mark.parametrize(
    "text", ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "TLyqzVGLV1srkB7dToTAEqgDSfPtXRJZYh", "TMixer000000000001"]
)
def test_a_base58check_address_with_a_wrong_checksum_or_alphabet_is_refused(text: str) -> None:
    with pytest.raises(AddressError):
        normalise_address(text)


@pytest.mark.parametrize("text", ["", "wallet-1", "x" * 200, "0", "bc1", "Hafen"])
def test_anything_else_is_not_an_address(text: str) -> None:
    with pytest.raises(AddressError):
        normalise_address(text)
