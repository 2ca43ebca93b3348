"""Gunicorn's settings for the web app (read from the working directory at start-up).

Command-line flags take precedence (`make bench` sets its own workers and bind).
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))


def post_worker_init(worker):
    # Everything the worker loaded to get here (Django, the apps, the URL patterns …) lives
    # as long as the worker: moved out of the collector's way, the collections that run
    # every few requests no longer walk it.
    gc.freeze()
