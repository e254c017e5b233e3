"""Stopping a run cleanly: Ctrl-C or SIGTERM saves a checkpoint first; status lines that do
not break the progress bar."""

from __future__ import annotations

import signal
import sys

from tqdm import tqdm


def say(message: str) -> None:
    """Status lines go to stderr, with the progress bar, and do not break it."""
    tqdm.write(message, file=sys.stderr)


class Stopped(Exception):
    """A run stopped by a signal before it finished, after saving: the command exits with
    128 + the signal's number, as a process killed by it would, so `train && evaluate` in a
    script does not go on to score an unfinished run."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}")
        self.signum, self.step = signum, step

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopRequest:
    """Turns the first Ctrl-C or SIGTERM into a flag, so the loop saves before it exits."""

    def __init__(self) -> None:
        self.requested = False
        self.signum = signal.SIGTERM  # the signal that asked, once one has
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once
        self.requested, self.signum = True, signum
        say(f"{signal.Signals(signum).name}: saving a checkpoint, then stopping")

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
