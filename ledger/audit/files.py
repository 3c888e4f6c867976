"""The files of a bundle on disk: its layout, and reading and writing them without following links.

A bundle is untrusted input. Every name in it is looked up relative to an open
descriptor of its folder (so no path a link could redirect is ever opened),
and a file is opened with O_NOFOLLOW | O_NONBLOCK: a symbolic link is refused,
a FIFO cannot make the reader wait, and `fstat` must show a regular file
before a byte is read. Files are read as bytes (no newline translation), and
at most the limit named for each kind. Writers create files with
O_CREAT | O_EXCL | O_NOFOLLOW, or replace a regular file atomically through a
new file beside it, so that nothing is ever written through a link, and
nothing outside the folder it names.

The folder a user names (the bundle, the witness's home, where a proof goes)
may be reached through links; a link in its last component is refused when
something is written there, as is a link anywhere inside a bundle.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

BUNDLE_FORMAT = {"name": "crypto-bank-ledger/audit-bundle", "version": 1}
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
CHECKPOINTS = "checkpoints"
PROOFS = "proofs"
TILES = "tiles"  # the same log as C2SP tlog-tiles static files (see ledger.audit.tiles)
LAYOUT = (MANIFEST, EVENTS, CHECKPOINTS, PROOFS, TILES)  # nothing else is in a bundle

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_MODE = 0o644
FOLDER_MODE = 0o755
NAME_LENGTH_MAX = 255
FOLDER_ENTRIES_MAX = 1 << 20  # names in one folder of a bundle (a checkpoint every 1000 events: 10^9 events)


class FileProblem(Exception):
    """A file or folder that cannot be read or written as one: a link, a FIFO,
    too large, absent, ...; the message names the path and says why."""


class Folder:
    """An open folder: every name is looked up in it, never through a link."""

    def __init__(self, descriptor: int, path: Path) -> None:
        self.descriptor = descriptor
        self.path = path

    @classmethod
    def open(cls, path: Path, *, follow: bool = True) -> Folder:
        """The folder at `path`; with follow=False, its last component must not be a link."""
        flags = _FOLDER_FLAGS if not follow else _FOLDER_FLAGS & ~os.O_NOFOLLOW
        try:
            return cls(os.open(path, flags), path)
        except OSError as error:
            raise _problem(path, error, "folder") from None

    def close(self) -> None:
        os.close(self.descriptor)

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def where(self, name: str) -> Path:
        return self.path / name

    # Reading.

    def kind(self, name: str) -> str | None:
        """'file', 'folder', 'link', 'fifo', 'device' or 'socket' (the link itself,
        never what it points to); None when absent."""
        _check_name(self.where(name), name)
        try:
            mode = os.stat(name, dir_fd=self.descriptor, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None
        except OSError as error:
            raise _problem(self.where(name), error, "file") from None
        return _kind_of(mode)

    def names(self) -> list[str]:
        """The names in the folder, sorted; refused beyond FOLDER_ENTRIES_MAX."""
        names: list[str] = []
        try:
            with os.scandir(self.descriptor) as entries:
                for entry in entries:
                    if len(names) == FOLDER_ENTRIES_MAX:
                        raise FileProblem(f"{self.path}: more than {FOLDER_ENTRIES_MAX} entries")
                    names.append(entry.name)
        except OSError as error:
            raise _problem(self.path, error, "folder") from None
        return sorted(names)

    def folder(self, name: str) -> Folder:
        _check_name(self.where(name), name)
        try:
            descriptor = os.open(name, _FOLDER_FLAGS, dir_fd=self.descriptor)
        except OSError as error:
            raise _problem(self.where(name), error, "folder") from None
        return Folder(descriptor, self.where(name))

    @contextlib.contextmanager
    def open_file(self, name: str) -> Iterator[tuple[BinaryIO, int]]:
        """A regular file for reading in bytes, and its size when opened."""
        where = self.where(name)
        _check_name(where, name)
        kind = self.kind(name)
        if kind not in (None, "file"):  # refused before opening: opening a device can act on it
            raise FileProblem(f"{where}: {_SAYS[kind]}, not a regular file")
        try:
            descriptor = os.open(name, _READ_FLAGS, dir_fd=self.descriptor)
        except OSError as error:
            raise _problem(where, error, "file") from None
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):  # it changed since the look above
                raise FileProblem(f"{where}: {_SAYS[_kind_of(status.st_mode)]}, not a regular file")
            os.set_blocking(descriptor, True)
            handle = os.fdopen(descriptor, "rb")
        except BaseException:
            os.close(descriptor)
            raise
        with handle:
            yield handle, status.st_size

    def read(self, name: str, size_max: int) -> bytes:
        """The whole regular file, refused when larger than `size_max` bytes."""
        with self.open_file(name) as (handle, size):
            if size > size_max:
                raise FileProblem(f"{self.where(name)}: {size} bytes, more than the {size_max} allowed")
            data = handle.read(size_max + 1)  # the file may grow after fstat
        if len(data) > size_max:
            raise FileProblem(f"{self.where(name)}: more than the {size_max} bytes allowed")
        return data

    # Writing.

    def make_folder(self, name: str) -> Folder:
        """A new, empty folder in this one (refused if the name exists, as a link or otherwise)."""
        _check_name(self.where(name), name)
        try:
            os.mkdir(name, FOLDER_MODE, dir_fd=self.descriptor)
        except OSError as error:
            raise _problem(self.where(name), error, "folder") from None
        return self.folder(name)

    @contextlib.contextmanager
    def create(self, name: str, mode: int = FILE_MODE, *, durable: bool = False) -> Iterator[BinaryIO]:
        """A new file to write (on disk when closed, if `durable`); refused if
        anything, a link included, has the name."""
        _check_name(self.where(name), name)
        try:
            descriptor = os.open(name, _CREATE_FLAGS, mode, dir_fd=self.descriptor)
        except OSError as error:
            raise _problem(self.where(name), error, "file") from None
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())

    def write_new(self, name: str, data: bytes, mode: int = FILE_MODE, *, durable: bool = False) -> None:
        with self.create(name, mode, durable=durable) as handle:
            handle.write(data)

    def replace(self, name: str, data: bytes, mode: int = FILE_MODE) -> None:
        """Writes the file whole or not at all: a new file beside it, renamed over
        it. Refused when the name is a link or anything but a regular file."""
        where = self.where(name)
        kind = self.kind(name)
        if kind not in (None, "file"):
            raise FileProblem(f"{where}: {_SAYS[kind]}, not a regular file; refusing to write through it")
        temporary = f".{name}.{os.getpid()}.new"
        self.write_new(temporary, data, mode, durable=True)
        try:
            os.replace(temporary, name, src_dir_fd=self.descriptor, dst_dir_fd=self.descriptor)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self.descriptor)
            raise _problem(where, error, "file") from None
        os.fsync(self.descriptor)


_SAYS = {
    "folder": "a folder",
    "link": "a symbolic link (links are not followed)",
    "fifo": "a FIFO",
    "device": "a device",
    "socket": "a socket",
}


def _kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "socket" if stat.S_ISSOCK(mode) else "device"


def _check_name(where: Path, name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name or len(name.encode()) > NAME_LENGTH_MAX:
        raise FileProblem(f"{where}: not a plain file name")


def _problem(where: Path, error: OSError, kind: str) -> FileProblem:
    return FileProblem(f"{where}: {_why(where, error, kind)}")


def _why(where: Path, error: OSError, kind: str) -> str:
    if error.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR) and where.is_symlink():
        return f"{_SAYS['link']}, not a {kind}"  # O_NOFOLLOW refused it (with EMLINK on some BSDs)
    if error.errno == errno.ENOTDIR:
        return f"not a {kind}" if kind == "folder" else "a path through something that is not a folder"
    if error.errno == errno.EEXIST:
        return "exists already"
    if error.errno == errno.ENOENT:
        return "does not exist"
    return error.strerror or type(error).__name__


def open_new_folder(path: Path) -> Folder:
    """The folder at `path`, created if absent, for writing a bundle into:
    refused when its last component is a link or it is not empty."""
    if path.is_symlink():
        raise FileProblem(f"{path}: a symbolic link; refusing to write through it")
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise _problem(path, error, "folder") from None
    folder = Folder.open(path, follow=False)
    if folder.names():
        folder.close()
        raise FileProblem(f"{path} exists and is not an empty directory: choose a new one")
    return folder


def replace_file(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Writes `path` whole or not at all, never through a link at its last component."""
    with Folder.open(path.parent) as folder:
        folder.replace(path.name, data, mode)


def read_file(path: Path, size_max: int) -> bytes:
    """A file a user names (it may be reached through links, and be a pipe), read
    as bytes and refused when it holds more than `size_max`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(size_max + 1)
    except OSError as error:
        raise _problem(path, error, "file") from None
    if len(data) > size_max:
        raise FileProblem(f"{path}: more than the {size_max} bytes allowed")
    return data
