"""The deadline surge: many people submit in the seconds around closes_at, and nothing is lost.

Used by tests/live/test_deadline_surge.py, and runnable on its own with
larger numbers:

    .venv/bin/python -m tests.live.surge --users 200 --spread 3
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.live.surge

Every submission the server acknowledged must be in the database; every one
it refused must have been told "closed", kept its drafts, and have been sent
after the deadline; no request may get a 5xx; nobody may end with more than
one submission.
"""

import argparse
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select, update

from consult.accounts.services import register_user
from consult.comments import services as comment_services
from consult.comments.models import Comment, CommentStatus, IndividualType, ParticipantKind, Participation
from consult.consultations.importing import parse_document
from consult.consultations.models import Consultation
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db
from tests.liveserver import LiveServer, Visitor, running_server

PASSWORD = "surge password 2026"
DRAFTS_EACH = 2
DRAFT = """# Surge draft

## 1 Recommendations

1.1 The procedure should only be used in research.

1.2 Studies should report pain and quality of life.
"""


@dataclass
class SurgeReport:
    users: int
    acknowledged: list[str] = field(default_factory=list)
    refused_closed: list[str] = field(default_factory=list)
    other: list[tuple[str, int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sent_at: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.other and not self.problems

    def summary(self) -> str:
        return (f"{self.users} users: {len(self.acknowledged)} acknowledged, {len(self.refused_closed)} refused "
                f"as closed, {len(self.other)} other answers, {len(self.problems)} problems, "
                f"{self.seconds:.1f} s")


def _seed(server: LiveServer, users: int, late_grace_seconds: int) -> tuple[str, list[str]]:
    stamp = f"{time.time_ns()}"
    with server.app_context():
        now = utcnow()
        consultation = create_consultation(f"SRG{stamp[-9:]}", "Surge", "Summary",
                                           now - timedelta(days=1), now + timedelta(days=1))
        consultation.late_grace_seconds = late_grace_seconds
        document = import_document(consultation, parse_document(DRAFT))
        sections = [s for chapter in document.chapters for s in chapter.sections]
        emails = []
        for index in range(users):
            user = register_user(f"surge{index}-{stamp}@example.org", f"Surge {index}", PASSWORD)
            participation = comment_services.choose_participation(
                user, consultation, comment_services.ParticipationChoice(
                    kind=ParticipantKind.INDIVIDUAL, individual_type=IndividualType.MEMBER_OF_PUBLIC), now)
            for number in range(DRAFTS_EACH):
                section = sections[number % len(sections)]
                comment_services.save_draft(
                    participation, comment_services.CommentTargetRef(document, section.chapter, section),
                    f"Draft {number} from user {index}", None, now)
            emails.append(user.email)
        reference = consultation.reference
    return reference, emails


def run_surge(server: LiveServer, users: int = 30, spread: float = 1.5, lead: float = 2.0,
              urls: list[str] | None = None, make_visitor: Callable[[str], Visitor] = Visitor,
              late_grace_seconds: int = 1) -> SurgeReport:
    """Submit `users` responses at moments spread evenly over closes_at ± `spread` seconds.

    With `urls`, the people are dealt out between those instances in turn (all sharing the
    server's database), as a load balancer would.
    """
    reference, emails = _seed(server, users, late_grace_seconds)
    submit_path = f"/consultations/{reference}/response/submit"
    urls = urls or [server.url]
    visitors = []
    for position, email in enumerate(emails):
        visitor = make_visitor(urls[position % len(urls)])
        visitor.sign_in(email, PASSWORD)
        visitors.append((email, visitor, visitor.token(submit_path)))

    closes_at = utcnow() + timedelta(seconds=lead + spread)
    with server.app_context():
        db.session.execute(update(Consultation).where(Consultation.reference == reference)
                           .values(closes_at=closes_at))
    start = time.monotonic()
    close_moment = start + lead + spread
    report = SurgeReport(users=users)
    lock = threading.Lock()

    def submit(position: int):
        email, visitor, token = visitors[position]
        fire_at = close_moment - spread + (2 * spread * position / max(users - 1, 1))
        time.sleep(max(0.0, fire_at - time.monotonic()))
        report.sent_at[email] = utcnow()
        try:
            response = visitor.post(submit_path, token=token)
        except Exception as error:  # a dropped connection is an answer we must count, not hide
            with lock:
                report.other.append((email, 0, repr(error)))
            return
        with lock:
            if response.status_code == 302 and response.headers["Location"].endswith("/response/receipt"):
                report.acknowledged.append(email)
            elif response.status_code == 409 and "closed" in response.text:
                report.refused_closed.append(email)
            else:
                report.other.append((email, response.status_code, response.text[:200]))

    with ThreadPoolExecutor(max_workers=min(users, 64)) as pool:
        list(pool.map(submit, range(users)))
    report.seconds = time.monotonic() - start
    _verify(server, reference, report, closes_at)
    return report


def _verify(server: LiveServer, reference: str, report: SurgeReport, closes_at) -> None:
    with server.app.app_context():
        rows = db.session.execute(
            select(Participation.id, Participation.submitted_at, Participation.receipt_reference,
                   Participation.user.property.mapper.class_.email)
            .join(Participation.user).join(Participation.consultation)
            .where(Consultation.reference == reference)
        ).all()
        by_email = {row.email: row for row in rows}
        counts = dict(db.session.execute(
            select(Comment.participation_id, func.count()).group_by(Comment.participation_id)
            .where(Comment.status == CommentStatus.SUBMITTED)).all())
        drafts = dict(db.session.execute(
            select(Comment.participation_id, func.count()).group_by(Comment.participation_id)
            .where(Comment.status == CommentStatus.DRAFT)).all())
    for email in report.acknowledged:
        row = by_email[email]
        if row.submitted_at is None or counts.get(row.id) != DRAFTS_EACH or drafts.get(row.id):
            report.problems.append(f"{email}: acknowledged but not fully stored")
    for email in report.refused_closed:
        row = by_email[email]
        if row.submitted_at is not None or drafts.get(row.id) != DRAFTS_EACH:
            report.problems.append(f"{email}: refused but drafts not intact")
    for email in report.refused_closed:
        if report.sent_at[email] < closes_at:
            report.problems.append(f"{email}: sent {closes_at - report.sent_at[email]} before the deadline, "
                                   "but refused as late")
    if len(rows) != report.users:
        report.problems.append(f"{len(rows)} participations for {report.users} users")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spread", type=float, default=3.0, help="seconds either side of closes_at")
    args = parser.parse_args()
    with running_server("surge") as server:
        report = run_surge(server, users=args.users, spread=args.spread, lead=max(2.0, args.users / 50))
    print(report.summary())
    for line in report.other[:20] + report.problems[:20]:
        print("  ", line)
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
