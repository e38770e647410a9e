"""openissuing: a stateful Stripe Issuing + Treasury + Connect compatible server."""

__version__ = "0.1.0"
