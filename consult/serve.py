"""`make serve`: one production instance, the web workers and the queue worker together.

    CONSULT_ENV=production SECRET_KEY=… DATABASE_URL=postgresql+psycopg://… REDIS_URL=redis://… \
    MAIL_SERVER=… MAIL_FROM=… PUBLIC_URL=https://… python -m consult.serve

gunicorn serves the app with consult/gunicorn_config.py (HOST, PORT and
WEB_CONCURRENCY from the environment); `flask worker` runs the jobs (email,
for now) on REDIS_URL. Both log to stderr: the app one JSON line per
request. /healthz tells a load balancer whether the instance can serve. A
second instance is the same command on another machine or port, against the
same PostgreSQL and Redis. Ctrl-C or SIGTERM stops both processes.
"""

import subprocess
import sys

from consult.config import ConfigurationError, config_from_environment
from consult.processes import supervise


def main() -> None:
    try:
        config_from_environment()  # refuse to start, with the reason, before any process is spawned
    except ConfigurationError as error:
        sys.exit(f"The service cannot start: {error}")
    processes = [
        ("worker", subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"])),
        ("web server", subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:consult.gunicorn_config",
                                          "wsgi:app"])),
    ]
    supervise(processes)


if __name__ == "__main__":
    main()
