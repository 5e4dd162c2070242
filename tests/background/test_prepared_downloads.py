"""Large downloads prepared by the real worker: the progress page, the status, the file, and who may fetch it."""

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from docx import Document as WordDocument
from rq.job import Job
from sqlalchemy import select

from consult.accounts.models import Role
from consult.background.models import BackgroundJob, JobState
from consult.background.services import clean_up_jobs
from consult.comments import services as comment_services
from consult.consultations.models import CommitteeAssignment
from consult.database import utcnow
from consult.exports import jobs as export_jobs
from consult.exports import services as export_services
from consult.extensions import db
from consult.jobs import redis_connection
from consult.moderation.states import ModerationState, RejectionReason
from consult.questions import services as question_services
from consult.questions.models import Declaration
from tests.conftest import sections_of
from tests.mail.helpers import free_port, run_worker

ROWS = 5  # the moderated consultation's publishable comments (it has no questions, so no answers)


@pytest.fixture
def large(app, monkeypatch, queue_ready, downloads_dir):
    """Every download of more than two rows counts as large."""
    monkeypatch.setitem(app.config, "DOWNLOAD_JOB_ROWS", 2)
    return downloads_dir


def _download(consultation, tail: str) -> str:
    return f"/staff/consultations/{consultation.reference}/downloads/{tail}"


def _job(response) -> BackgroundJob:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    job_id = int(re.fullmatch(r"/prepared/(\d+)", response.headers["Location"]).group(1))
    db.session.expire_all()
    return db.session.get(BackgroundJob, job_id)


def _files(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_a_small_download_is_still_built_at_once(client, login, committee_member, moderated_consultation, app,
                                                 monkeypatch):
    consultation, _ = moderated_consultation
    monkeypatch.setitem(app.config, "DOWNLOAD_JOB_ROWS", ROWS)  # exactly at the threshold: not large
    login(committee_member)
    response = client.get(_download(consultation, "comments.xlsx"))
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert db.session.scalars(select(BackgroundJob)).all() == []


def test_a_large_workbook_is_prepared_by_the_worker_behind_a_progress_page(
        app, client, login, committee_member, moderated_consultation, large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    assert (job.state, job.total, job.kind, job.requested_by_id) == (JobState.QUEUED, ROWS, "comments.xlsx",
                                                                     committee_member.id)

    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Preparing your download" in page
    assert '<progress class="app-progress" id="job-progress" max="100" value="0"' in page
    assert "0% (0 of 5 rows)" in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert re.search(r'<script type="module" nonce="[^"]+" src="/static/js/progress\.mjs', page)
    status = client.get(f"/prepared/{job.id}/status")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.json == {"state": "queued", "done": 0, "total": 5, "percent": 0, "text": "0% (0 of 5 rows)",
                           "stalled": False, "error": ""}

    run_worker(app)

    db.session.expire_all()
    job = db.session.get(BackgroundJob, job.id)
    assert job.state is JobState.DONE and job.done == ROWS and job.expires_at > utcnow()
    assert _files(large) == [job.file_name]
    assert client.get(f"/prepared/{job.id}/status").json["percent"] == 100
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Your download is ready" in page and "http-equiv" not in page and "progress.mjs" not in page
    assert f'href="/prepared/{job.id}/file"' in page
    response = client.get(f"/prepared/{job.id}/file")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert f'filename="{consultation.reference}-comments.xlsx"' in response.headers["Content-Disposition"]
    assert f"({round(len(response.data) / 1024)} KB)" in page and "0.0 MB" not in page  # its size, as read
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    prepared = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    # The committee's file, as the immediate download would build it: no email column, the same rows.
    assert "Email address" not in [cell.value for cell in sheet[1]]
    assert len(prepared) == ROWS and prepared[0][0].startswith(f"{consultation.reference}-")


def test_the_status_follows_the_running_jobs_progress_on_the_queue(app, client, login, committee_member,
                                                                  moderated_consultation, large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    job.state = JobState.RUNNING  # as the worker marks it when it starts
    db.session.commit()
    queued = Job.fetch(job.rq_id, connection=redis_connection(app))
    queued.meta["progress"] = {"done": 2, "total": 5}  # as report_progress records it
    queued.save_meta()
    assert client.get(f"/prepared/{job.id}/status").json["text"] == "40% (2 of 5 rows)"
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert 'value="40"' in page and "40% (2 of 5 rows)" in page


def test_csv_and_word_table_are_prepared_the_same_way(app, client, login_as, moderated_consultation, large):
    consultation, _ = moderated_consultation
    login_as(Role.STAFF)
    csv_job = _job(client.get(_download(consultation, "comments.csv")))
    word_job = _job(client.get(_download(consultation, "table.docx?group=theme")))
    run_worker(app)
    rows = list(csv.reader(io.StringIO(client.get(f"/prepared/{csv_job.id}/file").data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Comment number", "Stakeholder", "Email address"] and len(rows) == ROWS + 1
    assert "'=1+1 looks like a formula" in [row[9] for row in rows]  # formula-safe, as the immediate one
    document = WordDocument(io.BytesIO(client.get(f"/prepared/{word_job.id}/file").data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:] == ["Evidence gaps", "Safety", "No theme"]


def test_asking_again_reuses_the_file_until_the_data_changes(app, client, login, committee_member,
                                                             moderated_consultation, large):
    consultation, comments = moderated_consultation
    login(committee_member)
    first = _job(client.get(_download(consultation, "comments.xlsx")))
    assert _job(client.get(_download(consultation, "comments.xlsx"))).id == first.id  # still queued: the same
    run_worker(app)
    assert _job(client.get(_download(consultation, "comments.xlsx"))).id == first.id  # done: the same file
    assert _job(client.get(_download(consultation, "comments.csv"))).id != first.id  # another file
    comments["Section one comment"].body = "Changed since"
    db.session.commit()
    changed = _job(client.get(_download(consultation, "comments.xlsx")))
    assert changed.id != first.id and changed.state is JobState.QUEUED


def test_only_the_asker_and_staff_can_see_or_fetch_the_file(app, client, login, make_user, committee_member,
                                                            moderated_consultation, large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    run_worker(app)
    paths = [f"/prepared/{job.id}", f"/prepared/{job.id}/status", f"/prepared/{job.id}/file"]
    other_member = make_user(role=Role.COMMITTEE, name="Other Member")
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=other_member.id))
    db.session.commit()
    for someone in (make_user(name="A stakeholder"), other_member):
        login(someone)
        assert [client.get(path).status_code for path in paths] == [404, 404, 404]
    client.post("/account/sign-out")
    with client.session_transaction() as session:
        session.clear()
    assert [client.get(path).status_code for path in paths] == [404, 404, 404]
    login(make_user(role=Role.STAFF, name="Another Staff"))
    assert [client.get(path).status_code for path in paths] == [200, 200, 200]
    assert client.get("/prepared/987654/status").status_code == 404


def test_the_asker_loses_the_file_with_their_access(app, client, login, make_user, committee_member,
                                                   moderated_consultation, large):
    """Asking once was enough: a member taken off the consultation, or staff made a stakeholder, could still
    fetch the file, every respondent's email address in it."""
    consultation, _ = moderated_consultation
    login(committee_member)
    by_member = _job(client.get(_download(consultation, "themed.xlsx")))
    staff = login(make_user(role=Role.STAFF, name="Soon Stakeholder"))
    by_staff = _job(client.get(_download(consultation, "comments.csv")))
    run_worker(app)
    files = [f"/prepared/{by_member.id}/file", f"/prepared/{by_staff.id}/file"]
    assert client.get(files[1]).status_code == 200

    db.session.delete(db.session.get(CommitteeAssignment, (consultation.id, committee_member.id)))
    staff.role = Role.STAKEHOLDER
    db.session.commit()

    for asker, path in ((committee_member, files[0]), (staff, files[1])):
        login(asker)
        assert [client.get(path.removesuffix("/file") + tail).status_code for tail in ("", "/status", "/file")] == [
            404, 404, 404]


def test_an_expired_file_is_refused_and_cleaned_up(app, client, login, committee_member, moderated_consultation,
                                                   large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    run_worker(app)
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job.id)
    job.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/prepared/{job.id}/file").status_code == 410
    assert "This download has expired" in client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert clean_up_jobs(app) == 1
    assert _files(large) == []
    # Asking again prepares a new file.
    assert _job(client.get(_download(consultation, "comments.xlsx"))).id != job.id


def test_a_job_that_fails_is_retried_then_failed_and_leaves_no_file(app, client, login, committee_member,
                                                                    moderated_consultation, large, monkeypatch):
    consultation, _ = moderated_consultation
    attempts = []

    def breaks_half_way(items, target, include_email, answers=()):
        attempts.append(1)
        target.write(b"PK\x03\x04 half a workbook")
        next(iter(items))
        raise OSError("disk full")

    monkeypatch.setattr(export_services, "write_comments_workbook", breaks_half_way)
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    run_worker(app)
    assert len(attempts) == 3  # the first try and RQ's two retries
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job.id)
    assert job.state is JobState.FAILED and job.file_name == "" and job.finished_at
    assert _files(large) == []
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Your download could not be prepared" in page and "Nothing was left half done" in page
    assert client.get(f"/prepared/{job.id}/file").status_code == 404
    # A failed file is never re-used: asking again tries again.
    assert _job(client.get(_download(consultation, "comments.xlsx"))).id != job.id


def test_a_queue_that_is_down_says_so_at_once(app, client, login, committee_member, moderated_consultation, large,
                                              monkeypatch):
    consultation, _ = moderated_consultation
    login(committee_member)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = client.get(_download(consultation, "comments.xlsx"))
    assert response.status_code == 503
    assert "Downloads are not being prepared at the moment" in response.get_data(as_text=True)
    [job] = db.session.scalars(select(BackgroundJob)).all()
    assert job.state is JobState.FAILED


def test_a_job_no_worker_takes_is_reported_and_checked_on_slowly(app, client, login, committee_member,
                                                         moderated_consultation, large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    job.created_at = utcnow() - timedelta(seconds=app.config["JOB_PICKUP_SECONDS"] + 1)
    db.session.commit()
    assert client.get(f"/prepared/{job.id}/status").json["stalled"] is True
    page = client.get(f"/prepared/{job.id}").get_data(as_text=True)
    assert "Nothing has started preparing this download yet" in page
    assert "Your request is kept, and will be done when the background work runs again." in page
    assert "Try again later" not in page  # it is kept: asking again is not needed
    # It keeps checking, slowly, so that it shows the file once a worker runs again, with or without scripts.
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page and "progress.mjs" in page
    run_worker(app)  # the worker comes back: the job is still done
    assert "Your download is ready" in client.get(f"/prepared/{job.id}").get_data(as_text=True)


def test_a_job_the_queue_dropped_is_failed_so_asking_again_starts_afresh(app, client, login, committee_member,
                                                                       moderated_consultation, large):
    consultation, _ = moderated_consultation
    login(committee_member)
    job = _job(client.get(_download(consultation, "comments.xlsx")))
    job.created_at = utcnow() - timedelta(seconds=app.config["JOB_TTL_SECONDS"] + 1)
    db.session.commit()
    clean_up_jobs(app)
    db.session.expire_all()
    assert db.session.get(BackgroundJob, job.id).state is JobState.FAILED
    assert _job(client.get(_download(consultation, "comments.xlsx"))).id != job.id


def _closed_with_accepted_comments(consultation, comments) -> None:
    for comment in comments.values():
        if comment.moderation_state is not ModerationState.REJECTED:
            comment.moderation_state = ModerationState.ACCEPTED
    consultation.opens_at, consultation.closes_at = utcnow() - timedelta(days=40), utcnow() - timedelta(days=1)
    db.session.commit()


def test_a_large_published_download_is_prepared_for_anyone(app, client, moderated_consultation, large):
    consultation, comments = moderated_consultation
    _closed_with_accepted_comments(consultation, comments)
    consultation.published_at = utcnow()
    db.session.commit()
    job = _job(client.get(f"/consultations/{consultation.reference}/published-comments.xlsx"))
    assert job.requested_by_id is None and job.total == ROWS
    run_worker(app)
    response = client.get(f"/prepared/{job.id}/file")  # nobody signed in: published comments are anyone's
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == ROWS + 1


def _check_and_confirm(client, post_form, consultation, tail: str) -> None:
    """Publish or withdraw as staff do: confirm the counts the check page showed."""
    url = f"/staff/consultations/{consultation.reference}/{tail}"
    seen = dict(re.findall(r'name="(\w+)" type="hidden" value="(\d+)"', client.get(url).get_data(as_text=True)))
    assert post_form(url, seen).status_code == 302


def _published_by_staff(client, login_as, post_form, moderated_consultation):
    consultation, comments = moderated_consultation
    _closed_with_accepted_comments(consultation, comments)
    login_as(Role.STAFF)
    _check_and_confirm(client, post_form, consultation, "publication")
    return consultation


def _pages(job) -> list[str]:
    return [f"/prepared/{job.id}", f"/prepared/{job.id}/status", f"/prepared/{job.id}/file"]


def test_withdrawing_publication_stops_its_prepared_files_and_discards_them(app, client, login_as, post_form,
                                                                           moderated_consultation, large):
    consultation = _published_by_staff(client, login_as, post_form, moderated_consultation)
    anyone = app.test_client()
    published_csv = f"/consultations/{consultation.reference}/published-comments.csv"
    public = _job(anyone.get(published_csv))
    own = _job(client.get(_download(consultation, "comments.csv")))  # the staff member's own file
    run_worker(app)
    paths = _pages(public)
    assert [anyone.get(path).status_code for path in paths] == [200, 200, 200]

    _check_and_confirm(client, post_form, consultation, "publication/withdraw")
    assert anyone.get(f"/consultations/{consultation.reference}/published-comments").status_code == 404
    # Gone for everyone, as the published pages are: not "ready", not the file, and not kept on disk.
    for someone in (anyone, client):
        assert [someone.get(path).status_code for path in paths] == [404, 404, 404]
        assert "Your download is ready" not in someone.get(paths[0]).get_data(as_text=True)
    db.session.expire_all()
    own = db.session.get(BackgroundJob, own.id)
    assert _files(large) == [own.file_name]
    assert client.get(f"/prepared/{own.id}/file").status_code == 200  # a person's own file is not affected

    # Published again: the file made before the withdrawal is not served again; asking prepares a new one.
    _check_and_confirm(client, post_form, consultation, "publication")
    assert [anyone.get(path).status_code for path in paths] == [404, 404, 404]
    assert _job(anyone.get(published_csv)).id != public.id


def test_a_public_file_is_served_only_under_the_publication_it_was_made_from(app, client, moderated_consultation,
                                                                            large):
    consultation, comments = moderated_consultation
    _closed_with_accepted_comments(consultation, comments)
    consultation.published_at = utcnow()
    db.session.commit()
    job = _job(client.get(f"/consultations/{consultation.reference}/published-comments.xlsx"))
    run_worker(app)
    paths = _pages(job)
    assert [client.get(path).status_code for path in paths] == [200, 200, 200]
    # Withdrawn, and published again, with nothing cleaned up in between: the file is still on disk.
    consultation.published_at = None
    db.session.commit()
    assert [client.get(path).status_code for path in paths] == [404, 404, 404]
    consultation.published_at = utcnow()
    db.session.commit()
    assert [client.get(path).status_code for path in paths] == [404, 404, 404]
    db.session.expire_all()
    assert _files(large) == [db.session.get(BackgroundJob, job.id).file_name]
    assert clean_up_jobs(app) == 1
    assert _files(large) == []


def test_a_public_file_outdated_by_a_decision_after_publication_is_refused_and_cleaned_up(
        app, client, login_as, post_form, moderated_consultation, large):
    """A comment rejected after publication leaves the published pages at once; a file made before must not
    go on offering it at its own link until it expires."""
    consultation = _published_by_staff(client, login_as, post_form, moderated_consultation)
    anyone = app.test_client()
    published_csv = f"/consultations/{consultation.reference}/published-comments.csv"
    public = _job(anyone.get(published_csv))
    run_worker(app)
    paths = _pages(public)
    assert [anyone.get(path).status_code for path in paths] == [200, 200, 200]
    _, comments = moderated_consultation
    rejected = next(c for c in comments.values() if c.moderation_state is ModerationState.ACCEPTED)
    assert rejected.reference in anyone.get(paths[2]).get_data(as_text=True)

    rejected.moderation_state = ModerationState.REJECTED
    rejected.rejection_reason = RejectionReason.PERSONAL_DATA
    db.session.commit()

    assert [anyone.get(path).status_code for path in paths] == [404, 404, 404]
    again = _job(anyone.get(published_csv))
    assert again.id != public.id  # asking again prepares the publication as it is now
    assert clean_up_jobs(app) == 1  # the outdated file, and nothing else, is discarded
    run_worker(app)
    assert rejected.reference not in anyone.get(f"/prepared/{again.id}/file").get_data(as_text=True)


def test_a_public_file_prepared_after_the_withdrawal_is_not_served_or_kept(app, client, login_as, post_form,
                                                                          moderated_consultation, large):
    consultation = _published_by_staff(client, login_as, post_form, moderated_consultation)
    job = _job(client.get(f"/consultations/{consultation.reference}/published-comments.csv"))
    _check_and_confirm(client, post_form, consultation, "publication/withdraw")
    run_worker(app)  # the worker reaches the job only after the withdrawal
    assert client.get(f"/prepared/{job.id}/file").status_code == 404
    clean_up_jobs(app)
    assert _files(large) == []


def test_a_public_file_its_pages_would_refuse_is_never_offered(app, client, moderated_consultation, large):
    consultation, comments = moderated_consultation
    _closed_with_accepted_comments(consultation, comments)
    consultation.published_at = utcnow()
    db.session.commit()
    url = f"/consultations/{consultation.reference}/published-comments.csv"
    job = _job(client.get(url))
    run_worker(app)
    # Stamped by a server whose clock is a moment behind the one that published: the same data, but refused.
    job.created_at = consultation.published_at - timedelta(milliseconds=5)
    db.session.commit()
    assert client.get(f"/prepared/{job.id}/file").status_code == 404
    again = _job(client.get(url))
    assert again.id != job.id and client.get(f"/prepared/{again.id}").status_code == 200


@pytest.fixture
def answered(make_user, make_consultation, make_participation):
    """Ten accepted comments, one each from nine individuals and an organisation, published; the four standard
    questions and, for the organisation alone, the formal-support declaration; one bare yes the only answer."""
    staff = make_user(role=Role.STAFF, name="Question Writer")
    consultation = make_consultation(state="upcoming")
    question_services.add_standard_questions(staff, consultation, utcnow())
    question_services.switch_declaration(staff, consultation, Declaration.FORMAL_SUPPORT, True, utcnow())
    consultation.opens_at = utcnow() - timedelta(days=1)
    db.session.commit()
    section = sections_of(consultation)["1.1"]
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    for number in range(10):
        participation = make_participation(make_user(name=f"Person {number}"), consultation,
                                           kind="organisation" if number == 0 else "individual")
        comment_services.save_draft(participation, target, f"Comment {number}", None, utcnow())
        if number == 1:
            question_services.save_answer(participation, question_services.list_questions(consultation.id)[0],
                                          True, "", utcnow())
        comment_services.submit_response(participation, utcnow())
    db.session.commit()
    for comment in db.session.scalars(select(comment_services.Comment)):
        comment.moderation_state = ModerationState.ACCEPTED
    consultation.closes_at, consultation.published_at = utcnow() - timedelta(minutes=1), utcnow()
    db.session.commit()
    return consultation


def _rows_in(kind: str, data: bytes) -> int:
    """The data rows a person finds in the file: comments and answers, under their headings."""
    if kind.endswith(".csv"):
        return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) - 1
    if kind.endswith(".docx"):
        return sum(len(table.rows) - 1 for table in WordDocument(io.BytesIO(data)).tables)
    book = openpyxl.load_workbook(io.BytesIO(data))
    if kind != "themed.xlsx":
        return book.active.max_row - 1
    # No comment has a theme: all are on the one sheet (under its title), then the answers by question.
    return book["No theme"].max_row - 2 + sum(sheet.max_row - 1 for sheet in book.worksheets
                                              if re.match(r"Q\d+ ", sheet.title))


def _panel(page: str) -> str:
    return re.search(r'class="govuk-panel__body">\s*(.*?)\s*</div>', page, re.S).group(1)


def test_every_prepared_file_counts_the_rows_it_holds(app, client, login_as, answered, large, monkeypatch):
    consultation = answered
    reference = consultation.reference
    member = login_as(Role.COMMITTEE, name="Committee Reader")
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.commit()
    own = _job(client.get(_download(consultation, "comments.xlsx")))  # the committee's file, without emails
    login_as(Role.STAFF)
    urls = {kind: _download(consultation, kind) for kind in ("comments.csv", "comments.xlsx", "themed.xlsx",
                                                              "table.docx")}
    urls |= {kind: f"/consultations/{reference}/published-comments.{kind[10:]}"
             for kind in ("published.csv", "published.xlsx")}
    jobs = {kind: _job(client.get(url)) for kind, url in urls.items()}
    # 10 comments; answers: a row per question each was asked (4, and the organisation's declaration), or, in
    # the themed workbook, the Word table and the public files, the one answer given.
    expected = {"comments.csv": 51, "comments.xlsx": 51, "table.docx": 11, "themed.xlsx": 11,
                "published.csv": 11, "published.xlsx": 11}
    assert {kind: job.total for kind, job in jobs.items()} == expected and own.total == 51
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 1)  # the worker reports every row it writes
    run_worker(app)

    monkeypatch.setitem(app.config, "DOWNLOAD_JOB_ROWS", 10_000)  # what the same request builds at once
    for kind, job in [*jobs.items(), ("comments.xlsx", own)]:
        rows = _rows_in(kind, client.get(f"/prepared/{job.id}/file").data)
        assert rows == expected[kind] == _rows_in(kind, client.get(urls[kind]).data), kind
        db.session.expire_all()
        assert db.session.get(BackgroundJob, job.id).done == rows, kind
        assert _panel(client.get(f"/prepared/{job.id}").get_data(as_text=True)) == f"{rows} rows", kind
        assert client.get(f"/prepared/{job.id}/status").json["text"] == f"100% ({rows} of {rows} rows)", kind
        # The last progress reported while it ran counted comments and answers together.
        progress = Job.fetch(job.rq_id, connection=redis_connection(app)).get_meta()["progress"]
        assert progress == {"done": rows, "total": rows}, kind


def test_one_row_is_one_row(app, client, login_as, moderated_consultation, large, monkeypatch):
    consultation, _ = moderated_consultation
    monkeypatch.setitem(app.config, "DOWNLOAD_JOB_ROWS", 0)
    login_as(Role.STAFF)
    job = _job(client.get(_download(consultation, "comments.csv?state=redacted")))
    assert client.get(f"/prepared/{job.id}/status").json["text"] == "0% (0 of 1 row)"
    run_worker(app)
    assert _rows_in("comments.csv", client.get(f"/prepared/{job.id}/file").data) == 1
    assert _panel(client.get(f"/prepared/{job.id}").get_data(as_text=True)) == "1 row"
    assert client.get(f"/prepared/{job.id}/status").json["text"] == "100% (1 of 1 row)"
