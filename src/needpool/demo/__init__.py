"""Demo data: the worked examples of PRODUCT.md §4 and generated volume (``needpool demo``, the bench).

- ``demo.users``: the demo product manager and sales user everything is entered as;
- ``demo.examples``: ``load_examples``, the worked examples through the services;
- ``demo.generator``: ``generate``, customers and requirements in bulk;
- ``demo.vocabulary`` and ``demo.bulk``: the generator's words and its bulk-writing building blocks.
"""
