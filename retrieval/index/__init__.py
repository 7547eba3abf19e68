"""The chunk index in Redis: its schema, vector layout, writes and migrations."""
