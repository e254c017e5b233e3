"""Errors meant for people: one line that says what is wrong and what to do."""


class GanStyleError(Exception):
    """Base class; the CLI prints these as one line, without a traceback, and exits with
    `exit_code`."""

    exit_code = 2  # the user's input was wrong


class DiskFullError(GanStyleError):
    """A file could not be written for lack of space; what was written before is intact."""

    exit_code = 1  # nothing was wrong with the input: the run stopped

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path  # the file that could not be written


class ConfigError(GanStyleError):
    """An experiment file or override is wrong."""


class DataError(GanStyleError):
    """A dataset is missing, empty or holds files that cannot be read."""


class CheckpointError(GanStyleError):
    """A checkpoint is missing, corrupt or from another architecture."""


class EvaluationError(GanStyleError):
    """Images cannot be scored: mismatched sizes, missing pairs, no weights for FID."""
