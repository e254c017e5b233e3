"""Stopping a run cleanly: Ctrl-C or SIGTERM saves a checkpoint first; status lines that do
not break the progress bar."""

from __future__ import annotations

import signal
import sys

from tqdm import tqdm


def say(message: str) -> None:
    """Status lines go to stderr, with the progress bar, and do not break it."""
    tqdm.write(message, file=sys.stderr)


class StopRequest:
    """Turns the first Ctrl-C or SIGTERM into a flag, so the loop saves before it exits."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once
        self.requested = True
        say(f"{signal.Signals(signum).name}: saving a checkpoint, then stopping")

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
