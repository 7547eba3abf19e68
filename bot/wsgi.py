"""The gunicorn entry point: `gunicorn --preload bot.wsgi:app` (see the Procfile).

With --preload the master builds the app once: it starts the embedded Redis when REDIS_URL
is unset and loads the models, and every forked worker shares them.
"""

from __future__ import annotations

from bot.http import create_app

app = create_app()
