"""mmssl's exception types, importable from any layer (engine, models, tools)."""


class UnsafeCheckpointError(ValueError):
    """A checkpoint whose pickle names code (a function or class) mmssl will not run."""


class NonFiniteLossError(FloatingPointError):
    """A logged loss became NaN or infinite."""


class TooManyBadImagesError(RuntimeError):
    """More images were skipped than the run allows."""
