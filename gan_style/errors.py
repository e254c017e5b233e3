"""Errors meant for people: one line that says what is wrong and what to do."""


class GanStyleError(Exception):
    """Base class; the CLI prints these as one line, without a traceback."""


class ConfigError(GanStyleError):
    """An experiment file or override is wrong."""


class DataError(GanStyleError):
    """A dataset is missing, empty or holds files that cannot be read."""


class CheckpointError(GanStyleError):
    """A checkpoint is missing, corrupt or from another architecture."""


class EvaluationError(GanStyleError):
    """Images cannot be scored: mismatched sizes, missing pairs, no weights for FID."""
