"""Analysis desk pages, one module per page group (the URL confs import the sub-modules)."""
