"""gunicorn settings for a production instance: `gunicorn -c python:consult.gunicorn_config wsgi:app`.

Every value can be set from the environment, so one file serves every
deployment. Request logs come from the app itself (one JSON line each, see
consult/operations.py), so gunicorn's own access log stays off.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers, one per core: each request holds a database connection for its
# whole life, and CPU (templates, password hashing) is what each one spends.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take an instance down.
max_requests = 2000
max_requests_jitter = 200
accesslog = None
errorlog = "-"
# Only the proxy in front of us may say which address a request came from.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
