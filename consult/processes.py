"""Run a few processes as one: `make run` and `make serve` stop them all when any stops or on Ctrl-C."""

import signal
import subprocess
import time


def _stop_on_terminate(_signal, _frame) -> None:
    raise KeyboardInterrupt


def supervise(processes: list[tuple[str, subprocess.Popen]], on_stop=None) -> None:
    """Wait until one process ends (or Ctrl-C / SIGTERM), then stop the rest, newest first.

    A process that does not stop within ten seconds of SIGINT is killed, so
    nothing is left holding a port or a queue.
    """
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    try:
        while all(process.poll() is None for _, process in processes):
            time.sleep(0.5)
        ended = next(name for name, process in processes if process.poll() is not None)
        print(f"The {ended} stopped; stopping the rest.", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if on_stop is not None:
            on_stop()
        for _, process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for _, process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
