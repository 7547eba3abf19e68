"""The `qa` subcommands, one module per area."""
