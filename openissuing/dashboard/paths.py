"""Where the dashboard lives."""

PREFIX = "/dashboard"
# The hosted Connect pages (account links, login links): services.connect_links builds their URLs.
HOSTED_PREFIX = "/connect"
