"""Needpool's SQLite backend: Django's, with writers queued at a gate (see ``base``)."""
