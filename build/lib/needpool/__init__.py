"""Needpool (需求池): one pool for every customer need."""

__version__ = "0.1.0"
