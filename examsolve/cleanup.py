"""Leaving nothing behind: SIGTERM unwinds like an exception, and a tool's whole process group ends with it.

Temporary folders live in with-blocks; these helpers make sure those blocks run their exit on every path:
an exception, a timeout, Ctrl-C (KeyboardInterrupt) and SIGTERM (SystemExit).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from typing import Iterator, Sequence


def _stop(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def terminate_unwinds() -> Iterator[None]:
    """While the block runs, SIGTERM raises SystemExit (unless a handler is set already, as the CLI sets one),
    so with-blocks inside remove their temporary files. Only the main thread can install handlers."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    old = signal.getsignal(signal.SIGTERM)
    if old is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_tool(cmd: Sequence[str], cwd: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Run a tool in its own process group and wait; on a timeout, an interrupt or any error the whole group
    (the tool and what it started, e.g. latexmk's pdflatex) is killed before the error goes on.

    subprocess.TimeoutExpired is raised when the tool runs longer than timeout seconds.
    """
    posix = os.name == "posix"
    p = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=posix)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        _kill(p, posix)
        raise
    return subprocess.CompletedProcess(list(cmd), p.returncode, out, err)


def _kill(p: subprocess.Popen, posix: bool) -> None:
    """Kill the process and its group, then reap it (so its files are closed before the folder goes)."""
    try:
        if posix:
            os.killpg(p.pid, signal.SIGKILL)
        else:
            p.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        p.communicate(timeout=10)
    except BaseException:  # noqa: BLE001 - best effort: the original error matters more
        pass
