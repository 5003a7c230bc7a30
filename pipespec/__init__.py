"""pipespec: one declarative ML pipeline spec, many orchestrators."""

__version__ = "0.1.0"
