"""Process bookkeeping for the system tests.

Every process the suite starts goes through `start()`, is remembered here and
is stopped by its PID: explicitly by its owner (fixture finalizer), and as a
last resort by an atexit guard.  Nothing is ever killed by name.
"""

import atexit
import os
import signal
import subprocess
import time

_live = {}  # pid -> (Popen, description)


def start(argv, description, stdout=None, stderr=None, **kwargs):
    """Start argv in its own process group and remember it."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
        start_new_session=True,
        **kwargs,
    )
    _live[proc.pid] = (proc, description)
    return proc


def stop(proc, timeout=5.0):
    """Stop one process by PID: SIGTERM, then SIGKILL; reap it."""
    if proc is None:
        return
    try:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        # The process led its own group (start_new_session): sweep any
        # children it forked (NSD's server/xfrd processes) left behind.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    finally:
        _live.pop(proc.pid, None)


def live():
    return [(p.pid, d) for p, d in _live.values() if p.poll() is None]


def stop_all():
    for proc, _ in list(_live.values()):
        try:
            stop(proc, timeout=3)
        except Exception:  # pragma: no cover - best effort at exit
            pass


atexit.register(stop_all)


def install_sigterm_guard():
    """Turn SIGTERM into KeyboardInterrupt so fixture finalizers and the
    atexit guard still run when the suite itself is terminated."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread
        pass


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


LOG_TAIL = 20000  # characters of a process's log shown when it fails to start


def wait_ready(proc, ready, timeout, what, logs):
    """Wait until ready() is true for a process just started (procs.start).

    ready() may raise while the process is still starting (connection refused, a DNS
    timeout): that counts as not yet. If the process exits first, raise RuntimeError
    with its exit code and the tail of logs(); on timeout, stop it by PID and raise,
    naming the last error ready() gave. Either way the process is stopped and reaped.
    Returns ready()'s value."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        code = proc.poll()
        if code is not None:
            log = logs()[-LOG_TAIL:]
            stop(proc)
            raise RuntimeError(f"{what} exited before it was ready (exit code {code}); log:\n{log}")
        try:
            value = ready()
            if value:
                return value
        except Exception as error:  # any failure of the probe means: not ready yet
            last_error = error
        if time.monotonic() >= deadline:
            log = logs()[-LOG_TAIL:]
            stop(proc)
            detail = f" (last probe: {type(last_error).__name__}: {last_error})" if last_error else ""
            raise RuntimeError(f"{what} not ready within {timeout}s{detail}; log:\n{log}")
        time.sleep(0.05)
