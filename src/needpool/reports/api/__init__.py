"""The reports API (``/api/v1/reports/``): the same documents as the pages, as JSON."""
