"""Outbound webhooks: JSON events signed the Standard Webhooks way, retried with backoff, with a delivery log."""
