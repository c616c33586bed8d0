"""User-facing errors.

Every error a user can cause (bad input, impossible settings, missing data) is raised as a
subclass of :class:`GDAError` with a plain-language message.  The dashboard shows the
message with ``st.error`` and the CLI prints it, both without a traceback.
"""


class GDAError(ValueError):
    """An error caused by the user's input or settings, with a message meant for them."""


class DatasetError(GDAError):
    """A dataset could not be loaded or subsampled as asked."""


class OversamplingError(GDAError):
    """An oversampler cannot run on the given data with the given settings."""


class ConfigError(GDAError):
    """A setting is out of range or inconsistent with the others."""


class RunError(GDAError):
    """A background run does not exist, or cannot do what was asked in its current state."""
