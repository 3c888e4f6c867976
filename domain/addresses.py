"""Wallet addresses, normalised per network so that one wallet is one string.

A blacklist that compares raw strings lets a wallet through in another
spelling: an EVM address listed in its checksummed form passes in lower
case. So every address is read by the format of its network and kept in
one canonical spelling:

- **EVM** (Ethereum and its kin): `0x` and 40 hexadecimal digits, case
  insensitive; written in mixed case it must carry a valid EIP-55 checksum
  (Keccak-256 of the lower-case hex); kept in its EIP-55 spelling.
- **Bitcoin, segwit** (BIP 173 bech32 for version 0, BIP 350 bech32m for 1
  and above): `bc1` (mainnet) or `tb1` (testnet), one case throughout, a
  valid checksum and witness program; kept in lower case.
- **Bitcoin, legacy** (P2PKH `1...`, P2SH `3...`) and **TRON** (`T...`):
  Base58Check with a valid double-SHA-256 checksum and the network's
  version byte; case sensitive, kept as given.

Anything else is not an address (`AddressError`, whose message says why).
Pure Python: Keccak-256 is not SHA3-256 (its padding differs), and the
standard library has only the latter.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum


class AddressError(ValueError):
    """Not a wallet address of any network the ledger knows; the message says why."""


class Network(StrEnum):
    EVM = "evm"
    BITCOIN = "bitcoin"
    TRON = "tron"


def normalise_address(text: str) -> tuple[Network, str]:
    """The network of `text` and its canonical spelling, or `AddressError`."""
    if text[:2] in ("0x", "0X"):
        return Network.EVM, _evm(text)
    if text[:3].lower() in ("bc1", "tb1"):
        return Network.BITCOIN, _segwit(text)
    if text[:1] in ("1", "3"):
        _base58check(text, {0x00, 0x05}, "a Bitcoin P2PKH or P2SH address")
        return Network.BITCOIN, text
    if text[:1] == "T":
        _base58check(text, {0x41}, "a TRON address")
        return Network.TRON, text
    raise AddressError(
        f"{text[:60]!r} is not a wallet address: expected 0x and 40 hex digits (EVM), "
        "bc1/tb1 (Bitcoin segwit), 1 or 3 (Bitcoin legacy) or T (TRON)"
    )


def canonical_address(text: str) -> str:
    """The canonical spelling of `text`, or `text` itself where it is no
    address: stores made before addresses were checked hold such text in
    their events, and must replay as they were recorded."""
    try:
        return normalise_address(text)[1]
    except AddressError:
        return text


# EVM: EIP-55.

_HEX40 = re.compile(r"[0-9a-fA-F]{40}", re.ASCII)


def _evm(text: str) -> str:
    digits = text[2:]
    if text[1] != "x" or not _HEX40.fullmatch(digits):
        raise AddressError(f"{text[:60]!r} is not an EVM address: 0x and 40 hexadecimal digits")
    checksummed = eip55(digits)
    mixed = digits != digits.lower() and digits != digits.upper()
    if mixed and "0x" + digits != checksummed:
        raise AddressError(f"{text!r} has a wrong EIP-55 checksum: it is spelled {checksummed} (a mistyped letter?)")
    return checksummed


def eip55(hex_digits: str) -> str:
    """The EIP-55 spelling of 40 hexadecimal digits, with its 0x."""
    lower = hex_digits.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


# Keccak-256 (the original submission's padding, 0x01; SHA3-256 pads 0x06).

_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROTATIONS = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61), (28, 55, 25, 21, 56), (27, 20, 39, 8, 14),
)  # fmt: skip
_MASK = (1 << 64) - 1
_RATE = 136  # bytes: 1600 - 2 * 256 bits


def _rotate(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _permute(lanes: list[list[int]]) -> None:
    for constant in _ROUND_CONSTANTS:
        parity = [lanes[x][0] ^ lanes[x][1] ^ lanes[x][2] ^ lanes[x][3] ^ lanes[x][4] for x in range(5)]
        for x in range(5):
            mix = parity[(x - 1) % 5] ^ _rotate(parity[(x + 1) % 5], 1)
            for y in range(5):
                lanes[x][y] ^= mix
        moved = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                moved[y][(2 * x + 3 * y) % 5] = _rotate(lanes[x][y], _ROTATIONS[x][y])
        for x in range(5):
            for y in range(5):
                lanes[x][y] = moved[x][y] ^ (~moved[(x + 1) % 5][y] & moved[(x + 2) % 5][y])
        lanes[0][0] ^= constant


def keccak256(data: bytes) -> bytes:
    padded = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % _RATE)
    padded[-1] |= 0x80
    lanes = [[0] * 5 for _ in range(5)]
    for start in range(0, len(padded), _RATE):
        block = padded[start : start + _RATE]
        for i in range(_RATE // 8):
            lanes[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _permute(lanes)
    return b"".join(lanes[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


# Base58Check.

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}


def _base58check(text: str, versions: set[int], what: str) -> bytes:
    if not 25 <= len(text) <= 35 or any(c not in _BASE58_INDEX for c in text):
        raise AddressError(f"{text[:60]!r} is not {what}: 25 to 35 Base58 characters")
    number = 0
    for c in text:
        number = number * 58 + _BASE58_INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    raw = bytes(zeros) + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")
    payload, checksum = raw[:-4], raw[-4:]
    if len(raw) != 25 or hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise AddressError(f"{text!r} is not {what}: its Base58Check checksum is wrong (a mistyped character?)")
    if payload[0] not in versions:
        raise AddressError(f"{text!r} is not {what}: version byte {payload[0]:#04x}")
    return payload


# Bech32 and bech32m (BIP 173, BIP 350).

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32, _BECH32M = 1, 0x2BC830A3


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _segwit(text: str) -> str:
    if text != text.lower() and text != text.upper():
        raise AddressError(f"{text[:60]!r} is not a segwit address: mixed case")
    lower = text.lower()
    human, _, data_part = lower.rpartition("1")
    if human not in ("bc", "tb") or not 8 <= len(lower) <= 90 or any(c not in _CHARSET for c in data_part):
        raise AddressError(f"{text[:60]!r} is not a segwit address: bc1 or tb1 and bech32 characters")
    data = [_CHARSET.index(c) for c in data_part]
    constant = _polymod([ord(c) >> 5 for c in human] + [0] + [ord(c) & 31 for c in human] + data)
    if len(data) < 7 or constant not in (_BECH32, _BECH32M):
        raise AddressError(f"{text!r} is not a segwit address: its checksum is wrong (a mistyped character?)")
    version, program = data[0], _regroup(data[1:-6])
    expected = _BECH32 if version == 0 else _BECH32M
    if version > 16 or constant != expected or program is None or not 2 <= len(program) <= 40:
        raise AddressError(f"{text!r} is not a segwit address: witness version {version} or its program")
    if version == 0 and len(program) not in (20, 32):
        raise AddressError(f"{text!r} is not a segwit address: a version 0 program is 20 or 32 bytes")
    return lower


def _regroup(data: list[int]) -> bytes | None:
    """5-bit groups to bytes, with at most 4 bits of zero padding."""
    accumulator, bits, out = 0, 0, bytearray()
    for value in data:
        accumulator = (accumulator << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or (accumulator << (8 - bits)) & 0xFF:
        return None
    return bytes(out)


# Addresses made from a seed, for tests, scenarios and simulations: real
# formats with valid checksums, so that they pass the checks above, and the
# same seed always gives the same address.


def example_address(network: Network, seed: str) -> str:
    """A valid address of `network` whose 20 bytes are SHA-256 of `seed`:
    EIP-55 for EVM, Base58Check for TRON (0x41) and Bitcoin P2PKH (0x00)."""
    body = hashlib.sha256(seed.encode()).digest()[:20]
    if network == Network.EVM:
        return eip55(body.hex())
    version = b"\x41" if network == Network.TRON else b"\x00"
    return base58check(version + body)


def base58check(payload: bytes) -> str:
    """`payload` and its double-SHA-256 checksum in Base58, leading zero bytes as '1'."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = _BASE58[digit] + digits
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + digits
