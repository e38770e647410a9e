"""Where the dashboard lives."""

PREFIX = "/dashboard"
