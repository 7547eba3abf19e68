"""Front ends: the `qa` CLI, the Flask HTTP API and the Slack app."""
