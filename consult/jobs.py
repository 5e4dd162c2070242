"""The job queue: RQ on the Redis the service already uses.

A job is a plain function in its domain (``consult.mail.jobs.send_email``)
that opens its own session, commits its own work and can be run in the
foreground. ``enqueue`` puts one on the queue; ``flask --app wsgi worker``
runs them.

The worker is an RQ SimpleWorker: each job runs in the worker's own process,
inside a fresh app context (so a fresh database session). RQ's default
worker starts a new interpreter for every job, which would import the whole
app each time for jobs that take milliseconds; a job that hangs is still
stopped by RQ's timeout.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from redis.exceptions import LockError
from rq import Queue, Retry, SimpleWorker, get_current_job

log = logging.getLogger(__name__)

JOB_TIMEOUT_SECONDS = 120


# One client per Redis URL in this process. A client per call opened a new
# connection for every enqueue (three on a submission), and redis-py re-read its
# own package metadata for each. The client's pool is thread-safe and starts
# afresh in a forked child, so sharing it across requests and workers is safe.
_clients: dict[str, Redis] = {}


def _new_client(url: str) -> Redis:
    # A short connect timeout: enqueueing happens after a request commits, and a
    # Redis that is down must not hold the page (the worker's sweep catches up).
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_connection(app: Flask | None = None) -> Redis:
    """This process's client for the app's Redis; its connections are pooled and reused."""
    url = (app or current_app).config["REDIS_URL"]
    client = _clients.get(url)
    if client is None:
        client = _clients.setdefault(url, _new_client(url))
    return client


def queue(app: Flask | None = None, connection: Redis | None = None) -> Queue:
    app = app or current_app._get_current_object()
    return Queue(app.config["QUEUE_NAME"], connection=connection or redis_connection(app))


def enqueue(function: Callable, *args, job_id: str | None = None, retry: Retry | None = None,
            job_timeout: int = JOB_TIMEOUT_SECONDS, **kwargs):
    """Put `function(*args, **kwargs)` on the queue; it runs in the worker, in an app context.

    `retry` (RQ's Retry) runs it again when it raises; `job_id` names it, so
    the state of a job a page waits on can be read back.
    """
    return queue().enqueue(function, *args, **kwargs, job_id=job_id, retry=retry, job_timeout=job_timeout,
                           ttl=current_app.config["JOB_TTL_SECONDS"], result_ttl=600, failure_ttl=7 * 24 * 3600)


class AlreadyRunning(Exception):
    """Another worker, instance or command holds the lock this work needs."""


LOCK_SECONDS = 60


@contextmanager
def held_alone(name: str) -> Iterator[None]:
    """Hold the Redis lock `name` while the block runs, across every worker and instance; raise
    AlreadyRunning at once if someone else holds it.

    The lock lapses LOCK_SECONDS after its holder last renewed it. A thread renews it every third of that
    while the block runs, so a job of an hour keeps it, and a worker killed part-way frees it within a
    minute instead of holding it for as long as the longest job might take.
    """
    # Not thread-local: the renewing thread must know the holder's token.
    lock = redis_connection().lock(f"{current_app.config['QUEUE_NAME']}:lock:{name}", timeout=LOCK_SECONDS,
                                   thread_local=False)
    if not lock.acquire(blocking=False):
        raise AlreadyRunning(name)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LOCK_SECONDS / 3):
            try:
                lock.reacquire()
            except Exception:  # Redis gone, or the lock lapsed: the work goes on; the next holder may start
                log.warning("Could not renew the lock %s.", name, exc_info=True)
                return

    renewer = threading.Thread(target=renew, name=f"renew {name}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        try:
            lock.release()
        except LockError:
            log.warning("The lock %s had lapsed before its work finished.", name)


def report_progress(done: int, total: int) -> None:
    """Record how far the running job has got, for a page that polls it; a no-op in the foreground."""
    job = get_current_job()
    if job is not None:
        job.meta["progress"] = {"done": done, "total": total}
        job.save_meta()


def periodic_tasks() -> list[Callable[[Flask], object]]:
    """What the worker does every MAIL_SWEEP_SECONDS besides running jobs, each given the app."""
    from consult.background.services import clean_up_jobs
    from consult.mail.jobs import sweep_outbox

    return [sweep_outbox, clean_up_jobs]


class AppWorker(SimpleWorker):
    """An RQ worker whose every job runs inside a fresh app context of `app`."""

    def __init__(self, *args, app: Flask, **kwargs):
        self.app = app
        super().__init__(*args, **kwargs)

    def execute_job(self, job, queue):
        with self.app.app_context():
            return super().execute_job(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        for task in periodic_tasks():
            try:
                with self.app.app_context():
                    task(self.app)
            except Exception:  # a failed sweep must not stop the worker; the next one tries again
                log.exception("Periodic task %s failed", getattr(task, "__name__", task))


def make_worker(app: Flask, connection: Redis | None = None) -> AppWorker:
    """A worker on the app's queue; the sweep runs on start and every MAIL_SWEEP_SECONDS."""
    interval = max(1, int(app.config["MAIL_SWEEP_SECONDS"]))
    # Its own client: the worker blocks on its connection while it waits for jobs.
    connection = connection or _new_client(app.config["REDIS_URL"])
    return AppWorker([queue(app, connection)], connection=connection, app=app,
                     maintenance_interval=interval, worker_ttl=interval + 15)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are waiting (and one sweep), then stop.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run queued jobs (sending email among them) until stopped with Ctrl-C."""
    app = current_app._get_current_object()
    worker = make_worker(app)
    click.echo(f"Worker on queue {app.config['QUEUE_NAME']} at {app.config['REDIS_URL']}")
    worker.work(burst=burst, logging_level="INFO")
