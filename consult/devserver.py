"""`make run`: the app, the queue worker and a local mail catcher, started and stopped together.

    python -m consult.devserver [--port 5000]

The catcher (consult.mail.catcher) receives everything the worker sends and
keeps it under instance/mail, shown at http://127.0.0.1:5000/dev/mail. It is
started only when the mail settings point at it (no MAIL_SERVER in the
environment). Without a reachable Redis the worker cannot run, so the
outbox is delivered in the foreground every few seconds instead, and a
fresh machine still sees its email. Ctrl-C stops every process.
"""

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time

import redis

from consult.config import config_from_environment
from consult.processes import supervise

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _start_redis(url: str) -> subprocess.Popen | None:
    """A throwaway Redis for this session, if the machine has one installed and none is running."""
    server = shutil.which("redis-server")
    connection = redis.Redis.from_url(url).connection_pool.connection_kwargs
    if server is None or connection.get("host") not in ("127.0.0.1", "localhost"):
        return None
    process = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(connection.get("port", 6379)),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    for _ in range(50):
        if _redis_reachable(url):
            return process
        time.sleep(0.1)
    process.terminate()
    return None


def _deliver_in_foreground(stop: threading.Event) -> None:
    while not stop.wait(5):
        subprocess.run([*FLASK, "mail", "deliver"], stdout=subprocess.DEVNULL, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the app, the worker and the local mail catcher together.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args()
    # Email the worker writes links to this address: on another port, links to the default one lead nowhere.
    os.environ.setdefault("PUBLIC_URL", f"http://{arguments.host}:{arguments.port}")
    config = config_from_environment()
    processes: list[tuple[str, subprocess.Popen]] = []
    stop = threading.Event()

    if "MAIL_SERVER" not in os.environ:
        processes.append(("mail catcher", subprocess.Popen(
            [sys.executable, "-m", "consult.mail.catcher", "--port", str(config.MAIL_PORT),
             "--directory", config.MAIL_CATCHER_DIRECTORY])))
    queue_ready = _redis_reachable(config.REDIS_URL)
    if not queue_ready:
        own_redis = _start_redis(config.REDIS_URL)
        if own_redis is not None:
            processes.append(("redis", own_redis))
            queue_ready = True
    if queue_ready:
        processes.append(("worker", subprocess.Popen([*FLASK, "worker"])))
    else:
        print(f"Redis is not reachable at {config.REDIS_URL}: email is delivered every 5 seconds by this "
              "launcher instead of the worker.", flush=True)
        threading.Thread(target=_deliver_in_foreground, args=(stop,), daemon=True).start()
    processes.append(("app", subprocess.Popen([*FLASK, "run", "--host", arguments.host,
                                               "--port", str(arguments.port)])))
    print(f"\n  The service:   http://{arguments.host}:{arguments.port}/"
          f"\n  Its email:     http://{arguments.host}:{arguments.port}/dev/mail\n  Ctrl-C stops everything.\n",
          flush=True)

    supervise(processes, on_stop=stop.set)

if __name__ == "__main__":
    main()
