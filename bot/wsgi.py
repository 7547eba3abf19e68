"""The gunicorn entry point: `gunicorn --preload bot.wsgi:app` (see the Procfile).

With --preload the master imports the code and builds the app once: it starts the embedded
Redis when REDIS_URL is unset, so every worker shares one server. The models are loaded by
each worker after the fork (gunicorn.conf.py's `post_worker_init`), not here: a worker forked
from a master that had run the model is slower (docs/scaling.md says by how much).
"""

from __future__ import annotations

from bot.http import create_app

app = create_app(warm=False)
