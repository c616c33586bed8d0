"""Multi-objective algorithms for the dual response problem (see :mod:`.registry`)."""
