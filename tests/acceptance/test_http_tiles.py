"""The log over HTTP as C2SP tlog-tiles, read by a client written from the spec alone (nothing of ledger.audit)."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.acceptance.cli import ledger
from tests.acceptance.http import SETUP, api_key, deposit, serving

DEPOSITS = 620  # two full level-0 tiles and a partial one, a partial level-1 tile


class TileClient:
    """tlog-tiles, tlog-checkpoint and signed-note, as their texts say."""

    def __init__(self, client: httpx.Client | BundleFiles, verifier_key: str) -> None:
        self.client = client
        self.served = isinstance(client, httpx.Client)  # static files have no headers to check
        name, key_id, key = verifier_key.split("+", 2)
        raw = base64.b64decode(key)
        assert raw[0] == 1  # Ed25519
        self.name, self.key_id, self.public = name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])
        self.size = 0

    def checkpoint(self) -> tuple[int, bytes]:
        response = self.client.get("/log/checkpoint")
        assert not self.served or response.headers["content-type"] == "text/plain; charset=utf-8"
        text, signatures = response.text.split("\n\n", 1)
        body = text + "\n"
        for line in signatures.splitlines():
            dash, name, blob = line.split(" ")
            signed = base64.b64decode(blob)
            if dash == "\u2014" and name == self.name and signed[:4] == self.key_id:
                self.public.verify(signed[4:], body.encode())  # raises if forged
                break
        else:
            raise AssertionError("no signature by the log's key")
        _origin, size, root = body.splitlines()[:3]
        self.size = int(size)
        return self.size, base64.b64decode(root)

    def tile(self, level: int, index: int) -> list[bytes]:
        hashes_at_level = self.size >> (8 * level)
        width = min(256, hashes_at_level - index * 256)
        path = f"/log/tile/{level}/{self.index_path(index)}" + (f".p/{width}" if width < 256 else "")
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.text)
        if self.served:
            assert response.headers["content-type"] == "application/octet-stream"
            assert "immutable" in response.headers["cache-control"]
        data = response.content
        assert len(data) == 32 * width
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def entries(self, index: int) -> list[bytes]:
        width = min(256, self.size - index * 256)
        path = f"/log/tile/entries/{self.index_path(index)}" + (f".p/{width}" if width < 256 else "")
        data = self.client.get(path).content  # httpx undoes a gzip Content-Encoding
        found, offset = [], 0
        while offset < len(data):
            length = int.from_bytes(data[offset : offset + 2], "big")
            found.append(data[offset + 2 : offset + 2 + length])
            offset += 2 + length
        assert len(found) == width
        return found

    @staticmethod
    def index_path(index: int) -> str:
        digits = f"{index:d}"
        digits = digits.zfill(-(-len(digits) // 3) * 3)
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])

    def node(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree of 2**height leaves starting at index * 2**height."""
        level, rest = divmod(height, 8)
        first = index << rest
        hashes = [h for n in range(first // 256, (first + (1 << rest) - 1) // 256 + 1) for h in self.tile(level, n)]
        offset = first - (first // 256) * 256
        layer = hashes[offset : offset + (1 << rest)]
        while len(layer) > 1:
            layer = [hashlib.sha256(b"\x01" + layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
        return layer[0]

    def mth(self, start: int, end: int) -> bytes:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            return self.node(size.bit_length() - 1, start // size)
        k = 1 << ((size - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end)).digest()

    def path(self, index: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = 1 << ((end - start - 1).bit_length() - 1)
        if index < start + k:
            return [*self.path(index, start, start + k), self.mth(start + k, end)]
        return [*self.path(index, start + k, end), self.mth(start, start + k)]


@dataclass
class FileResponse:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()


@dataclass
class BundleFiles:
    """A bundle's `tiles/` folder read as a tile client reads a log's prefix."""

    folder: Path

    def get(self, path: str) -> FileResponse:
        target = self.folder / path.removeprefix("/log/")
        return FileResponse(200, target.read_bytes()) if target.is_file() else FileResponse(404, b"")


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tiles") / "sandbox"
    made = ledger("init", "--home", str(home), "--sandbox-key", "--checkpoint-every-events", "150")
    assert made.returncode == 0, made.stderr
    operator = api_key(home, "operator")
    with serving(home) as server, server.client(operator) as client:
        assert client.post("/v1/commands", json=SETUP).status_code == 200
        for start in range(0, DEPOSITS, 100):
            batch = [deposit(f"d{n}", "0.01") for n in range(start, min(start + 100, DEPOSITS))]
            assert client.post("/v1/commands", json=batch).status_code == 200
    return home


def test_a_client_from_the_spec_alone_proves_random_leaves_against_the_signed_checkpoint(bank: Path) -> None:
    supervisor = api_key(bank, "supervisor")
    verifier_key = (bank / "keys" / "verifier-key.txt").read_text().strip()
    with serving(bank) as server, server.client(supervisor) as client:
        tiles = TileClient(client, verifier_key)
        size, root = tiles.checkpoint()
        assert size > 512
        assert tiles.mth(0, size) == root
        for index in [0, 255, 256, size - 1, *random.Random(3).sample(range(size), 12)]:
            entry = tiles.entries(index // 256)[index % 256]
            leaf = hashlib.sha256(b"\x00" + entry).digest()
            assert tiles.tile(0, index // 256)[index % 256] == leaf
            assert root_from_path(index, size, leaf, tiles.path(index, 0, size)) == root


def test_tiles_outside_the_signed_tree_or_named_as_the_spec_does_not_are_404(bank: Path) -> None:
    supervisor, viewer = api_key(bank, "supervisor"), api_key(bank, "viewer")
    with serving(bank) as server, server.client(supervisor) as client:
        size = int(client.get("/log/checkpoint").text.splitlines()[1])
        assert "max-age=2" in client.get("/log/checkpoint").headers["cache-control"]
        beyond = size // 256 + 1
        unsigned_width = (size % 256) + 1 if size % 256 < 255 else 1
        for path in (
            f"/log/tile/0/{beyond:03d}",
            f"/log/tile/0/{size // 256:03d}.p/{unsigned_width}",
            "/log/tile/0/0",
            "/log/tile/00/000",
            "/log/tile/0/000.p/256",
            "/log/tile/entries/x000/001",
        ):
            assert client.get(path).status_code == 404, path  # fmt: skip
        with server.client(viewer) as other:
            assert other.get("/log/checkpoint").status_code == 403
        with server.client() as anonymous:
            assert anonymous.get("/log/tile/0/000").status_code == 401


def test_an_exported_bundle_carries_the_same_log_as_tiles_a_client_from_the_spec_proves_against(
    bank: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    exported = ledger("audit", "export", str(bundle), "--home", str(bank))
    assert exported.returncode == 0, exported.stderr
    verifier_key = (bank / "keys" / "verifier-key.txt").read_text().strip()
    tiles = TileClient(BundleFiles(bundle / "tiles"), verifier_key)
    size, root = tiles.checkpoint()
    leaves = (bundle / "events.jsonl").read_bytes().splitlines()
    assert size == len(leaves)
    assert tiles.mth(0, size) == root
    for index in [0, 256, size - 1, *random.Random(4).sample(range(size), 8)]:
        assert tiles.entries(index // 256)[index % 256] == leaves[index]
        leaf = hashlib.sha256(b"\x00" + leaves[index]).digest()
        assert root_from_path(index, size, leaf, tiles.path(index, 0, size)) == root
    for checkpoint in (bundle / "checkpoints").iterdir():  # every checkpoint's partial tiles are there
        earlier = int(checkpoint.name)
        tiles.size = earlier
        assert tiles.mth(0, earlier) == base64.b64decode(checkpoint.read_text().splitlines()[2])


def test_verify_checks_a_bundles_tiles_against_its_leaves(bank: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(bank)).returncode == 0
    key = (bank / "keys" / "verifier-key.txt").read_text().strip()
    assert ledger("audit", "verify", str(bundle), "--key", key).returncode == 0
    tampered = {
        "tile/0/001": lambda data: bytes([data[0] ^ 1]) + data[1:],
        "tile/entries/000": lambda data: data.replace(b"d1", b"d9", 1),
        "checkpoint": lambda data: data.replace(b"\n", b"\n\n", 1),
    }
    for name, change in tampered.items():
        path = bundle / "tiles" / name
        original = path.read_bytes()
        path.write_bytes(change(original))
        result = ledger("audit", "verify", str(bundle), "--key", key)
        assert result.returncode == 1, name
        assert f"tiles/{name}" in result.stdout + result.stderr, name
        path.write_bytes(original)
    partial = next((bundle / "tiles" / "tile" / "1").glob("000.p/*"))
    partial.unlink()
    missing = ledger("audit", "verify", str(bundle), "--key", key)
    assert missing.returncode == 1
    assert "missing" in missing.stdout + missing.stderr
