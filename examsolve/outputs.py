"""Output files written atomically: a temporary file in the same folder, then a rename; never onto an input."""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable

from examsolve.errors import SpecError


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_target(path: str, inputs: Iterable[str] = ()) -> None:
    """SpecError (exit 2) when path is one of the inputs or its folder does not exist."""
    for src in inputs:
        if os.path.exists(path) and _same_file(path, src):
            raise SpecError(f"{path}: the output would replace the input {src}; choose another output file")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise SpecError(f"{path}: the folder {folder} does not exist; create it first or choose another output file")
    if os.path.isdir(path):
        raise SpecError(f"{path}: is a folder; give a file name")


def write(path: str, data: str | bytes, inputs: Iterable[str] = ()) -> None:
    """Write data to path all at once: the old file stays whole until the new one is complete."""
    inputs = tuple(inputs)
    check_target(path, inputs)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # a device or a pipe (/dev/stdout, a FIFO) cannot be replaced by a rename: write into it
        _write_direct(path, raw)
        return
    folder = os.path.dirname(path) or "."
    fd, tmp = _temp_in(folder, path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        raise SpecError(f"{path}: cannot write the file ({e.strerror or e}); nothing was changed") from None
    except BaseException:
        _remove(tmp)
        raise


def _temp_in(folder: str, path: str) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise SpecError(f"{path}: cannot write in {folder} ({e.strerror or e}); choose another output file") from None


def _write_direct(path: str, raw: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(raw)
    except OSError as e:
        raise SpecError(f"{path}: cannot write ({e.strerror or e})") from None


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
