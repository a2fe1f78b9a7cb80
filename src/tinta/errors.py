"""User-facing errors: the CLI prints these as one line, without a traceback."""


class TintaError(Exception):
    """A problem with the user's input (path, file, option), not a bug in tinta."""
