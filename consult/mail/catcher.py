"""A local SMTP server for development that keeps every message it receives as a .eml file.

``make run`` starts it (``python -m consult.mail.catcher``) beside the app
and the worker, and /dev/mail shows what arrived, so a new user can follow
the links in the emails the service sends without a real mail server.
"""

import argparse
import email
import email.policy
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.controller import Controller

_LINK = re.compile(r"https?://[^\s<>\"]+")


class SaveToDirectory:
    """aiosmtpd handler: each message becomes <time>-<n>.eml in `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}-{self.count}.eml"
        partial = self.directory / (name + ".part")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.directory / name)  # a reader never sees half a message
        return "250 Message accepted for delivery"


@dataclass
class CaughtMessage:
    name: str
    received_at: datetime
    subject: str
    sender: str
    to: str
    text: str
    html: str

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(_LINK.findall(self.text)))


def parse_message(raw: bytes, name: str = "", received_at: datetime | None = None) -> CaughtMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return CaughtMessage(
        name=name,
        received_at=received_at or datetime.now(timezone.utc),
        subject=str(message.get("Subject", "")),
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
    )


def read_mailbox(directory: str | Path) -> list[CaughtMessage]:
    """Every message the catcher kept, newest first."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda path: path.name, reverse=True)
    return [parse_message(path.read_bytes(), path.name,
                          datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)) for path in files]


def start(directory: str | Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Start the catcher in a background thread; the caller stops it with .stop()."""
    controller = Controller(SaveToDirectory(Path(directory)), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--directory", default="instance/mail")
    arguments = parser.parse_args()
    controller = start(arguments.directory, arguments.host, arguments.port)
    print(f"Catching email on {arguments.host}:{arguments.port}, kept in {arguments.directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
