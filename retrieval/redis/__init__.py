"""Redis itself: the embedded server, connecting, reading replies."""
