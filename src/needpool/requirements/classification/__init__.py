"""The classification rules in the app: admin pages and API for the option lists, their history, the rule
version and the quarterly review (writes in ``requirements.services.classification``)."""
