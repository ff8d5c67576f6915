"""Feedback by mail: mailboxes polled over IMAP become a collection channel (models, parsing, IMAP, services,
the admin page at /intake/mail/ and the two-minute poll)."""
