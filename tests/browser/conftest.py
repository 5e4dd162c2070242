"""Browser fixtures: one Chromium per run, a fresh context and page per test.

The browser is the distribution's Chromium at /usr/bin/chromium, driven by
Playwright; the tests never download one. Where it is absent the browser
tests are skipped with a reason that pytest's summary shows, unless
REQUIRE_BROWSER=1 (as CI sets), when they fail instead.

Every page talks to the session's live server (tests/conftest.py): the real
app under a threaded WSGI server, with its own database and CSRF switched on.
Tests seed what they need through the services and then act as a person
would, through labels and roles.
"""

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from itertools import count
from pathlib import Path

import pytest
from limits import parse
from sqlalchemy import delete, select

from consult.accounts import recovery_services, throttling
from consult.accounts.models import Role, SignInFailureCount
from consult.accounts.services import find_user_by_email, register_user
from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType, OrganisationType, ParticipantKind
from consult.consultations.importing import parse_document
from consult.consultations.models import Consultation, Document
from consult.consultations.services import (
    assign_committee_member,
    create_consultation,
    find_consultation,
    import_document,
)
from consult.database import utcnow
from consult.exports.publication import publication_counts, publish_comments
from consult.extensions import db
from consult.mail.models import OutboxEmail
from consult.mail.services import mark_failed_attempt
from consult.moderation import services as moderation_services
from consult.moderation.states import ModerationState, RejectionReason, ResponseState

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_REPORTS = ARTIFACTS / "axe"
AXE_SCRIPT = REPO_ROOT / "static" / "vendor" / "axe" / "axe.min.js"
DEMO_DRAFT = REPO_ROOT / "consult" / "demo" / "content" / "cryoablation-draft.md"

# The demo draft's title and a phrase from its section 2.5, which the journeys quote.
DOCUMENT_TITLE = "Image-guided cryoablation of peripheral neuroma for chronic pain"
QUOTE_SECTION = "2.5"
QUOTE = "a thin probe is passed through the skin"

PASSWORD = "a long and memorable passphrase"
DEFAULT_TIMEOUT_MS = 15_000
# Screenshots of passing pages are evidence to look at, never assertions, and a full-page capture costs
# about a seventh of a second: they are kept when KEEP_SCREENSHOTS=1. A failing test always leaves one.
KEEP_SCREENSHOTS = os.environ.get("KEEP_SCREENSHOTS") == "1"
DESKTOP = {"width": 1280, "height": 900}

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = ("serious", "critical")


# --- Availability ----------------------------------------------------------

def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(missing: str, skipped: str = "browser tests skipped"):
    """Skip, or fail loudly where the environment promises a browser (REQUIRE_BROWSER=1)."""
    if browser_required():
        pytest.fail(f"{missing}, and REQUIRE_BROWSER=1 says browser tests must run", pytrace=False)
    pytest.skip(f"{missing}: {skipped}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Let fixtures see whether the test itself failed (for the failure screenshot).
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- Browser, context, page --------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_browser_context(browser, live_server):
    """A fresh browser profile: no cookies or storage carried over from anything else."""
    browser_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP,
                                          locale="en-GB", timezone_id="Europe/London")
    browser_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return browser_context


def new_watched_page(browser_context) -> tuple:
    """A new tab, and the list its uncaught script errors and blocked scripts are written to.

    A Content Security Policy violation or an exception in app.mjs would
    silently turn progressive enhancement off, so both count as problems.
    """
    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"uncaught script error: {error}"))
    tab.on("console", lambda message: problems.append(f"console: {message.text}")
           if message.type == "error" and "Content Security Policy" in message.text else None)
    return tab, problems


def capture(tab, path: Path) -> None:
    """A full-page screenshot, kept as evidence beside the test; it is never the thing under test.

    Chromium now and then answers "Unable to capture screenshot" for a full page while the
    page is still settling its layout (seen once in CI on a page that passed every check).
    Such a failure is retried once, then a screenshot of the viewport is taken instead, so
    evidence gathering cannot fail a test whose assertions passed. A `.jpg`
    path gets a JPEG, several times quicker to encode than a PNG of a long page.
    """
    from playwright.sync_api import Error as PlaywrightError

    quality = {"quality": 80} if path.suffix == ".jpg" else {}
    for _attempt in range(2):
        try:
            tab.screenshot(path=path, full_page=True, **quality)
            return
        except PlaywrightError as failure:
            if "Unable to capture screenshot" not in str(failure):
                raise
            tab.wait_for_timeout(100)
    tab.screenshot(path=path, **quality)


def save_failure_screenshot(tab, test_name: str) -> None:
    directory = SCREENSHOTS / safe_name(test_name)
    directory.mkdir(parents=True, exist_ok=True)
    capture(tab, directory / "failure.png")


def problems_message(problems: list[str]) -> str:
    return "The page reported problems:\n" + "\n".join(problems)


@pytest.fixture
def context(browser, live_server):
    """A fresh browser profile per test: no cookies or storage carried between tests."""
    browser_context = new_browser_context(browser, live_server)
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(request, context):
    """A page that fails the test on any uncaught script error or blocked script (see new_watched_page)."""
    tab, problems = new_watched_page(context)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not tab.is_closed():
        save_failure_screenshot(tab, request.node.name)
    if problems:
        pytest.fail(problems_message(problems), pytrace=False)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") saves test-artifacts/screenshots/<test>/<NN>-<name>.png with KEEP_SCREENSHOTS=1."""
    directory = SCREENSHOTS / safe_name(request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    numbers = count(1)

    def take(tab, name: str) -> Path:
        path = directory / f"{next(numbers):02d}-{safe_name(name)}.png"
        if KEEP_SCREENSHOTS:
            directory.mkdir(parents=True, exist_ok=True)
            capture(tab, path)
        return path

    return take


# --- Accessibility -----------------------------------------------------------

@cache
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        unavailable("axe-core not found in static/vendor/axe (`make setup` puts it there)",
                    "accessibility checks skipped")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def inject_axe(tab) -> None:
    """Put axe-core into the page, whatever the page's Content Security Policy says.

    The app sends `script-src 'self' 'nonce-…'`. page.add_script_tag(content=…)
    and add_script_tag(path=…) both insert an inline <script> without the
    nonce, which the policy blocks. add_script_tag(url=…) would pass as 'self',
    but then the check would depend on the app serving the vendored file.
    page.evaluate runs the source through the DevTools protocol
    (Runtime.evaluate), which a page's CSP does not govern, so axe is defined
    on every page, error pages included, without relaxing the policy.
    """
    if not tab.evaluate("() => typeof window.axe === 'object'"):
        tab.evaluate(axe_source())
    assert tab.evaluate("() => typeof window.axe === 'object'"), "axe-core did not load into the page"


_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target, impact: n.impact, html: n.html.slice(0, 300),
                                summary: n.failureSummary})),
  }));
}"""


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html']}")
            if node.get("summary"):
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def check_accessibility(tab, name: str) -> list[dict]:
    """Run axe-core's WCAG 2.2 AA rules on the page; fail on any serious or critical violation.

    Every violation found (of any impact) is written to test-artifacts/axe/<name>.json;
    the minor and moderate ones are returned for the caller to look at.
    """
    tab.wait_for_load_state("load")
    inject_axe(tab)
    violations = tab.evaluate(_RUN_AXE, WCAG_TAGS)
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{safe_name(name)}.json").write_text(
        json.dumps({"page": name, "url": tab.url, "violations": violations},
                   indent=2), encoding="utf-8")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (f"axe found {len(blocking)} serious or critical WCAG violation(s) on "
                          f"'{name}' ({tab.url}):\n{describe_violations(blocking)}")
    # axe no longer checks that radios are grouped under a question (its rule for
    # that was retired), so check it here: each radio's fieldset has a legend with words.
    unnamed = tab.evaluate("""() => [...document.querySelectorAll('input[type=radio]')]
      .filter((radio) => {
        const legend = radio.closest('fieldset')?.querySelector(':scope > legend');
        return !(legend && legend.textContent.trim());
      })
      .map((radio) => `#${radio.id}`)""")
    assert not unnamed, (f"radios on '{name}' ({tab.url}) are not in a fieldset whose legend asks "
                         f"the question (WCAG 1.3.1, 3.3.2): {unnamed}")
    return violations


def assert_reflows(tab, name: str, width: int = 320) -> None:
    """WCAG 1.4.10: at 320 CSS px wide nothing makes the page scroll sideways.

    Two checks: the page itself does not scroll horizontally, and no visible
    element sticks out past the right edge (which an overflow: hidden further
    up would otherwise hide by cutting it off). A wide data table may scroll
    inside its own labelled, focusable region (WCAG exempts such tables), so
    what is inside one counts only if the region itself sticks out.
    """
    tab.set_viewport_size({"width": width, "height": 720})
    tab.wait_for_load_state("load")
    overflow = tab.evaluate("""() => {
      const root = document.documentElement;
      const scrolledInRegion = (el) => {
        const region = el.parentElement && el.parentElement.closest('[role=region][tabindex="0"]');
        return !!region && ['auto', 'scroll'].includes(getComputedStyle(region).overflowX)
          && (region.getAttribute('aria-label') || region.getAttribute('aria-labelledby'));
      };
      const hidden = (el) => el.closest('.govuk-visually-hidden, .govuk-skip-link, [hidden]')
        || getComputedStyle(el).visibility === 'hidden' || el.getClientRects().length === 0
        || scrolledInRegion(el);
      const wide = [...document.body.querySelectorAll('*')]
        .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1 && !hidden(el))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')}`
                     + ` (right edge ${Math.round(el.getBoundingClientRect().right)}px)`);
      return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
    }""")
    assert overflow["clientWidth"] <= width, overflow
    assert overflow["scrollWidth"] <= overflow["clientWidth"], (
        f"'{name}' scrolls horizontally at {width}px: scrollWidth {overflow['scrollWidth']} > "
        f"clientWidth {overflow['clientWidth']}; elements past the edge: {overflow['wide']}")
    assert not overflow["wide"], f"'{name}' has elements past the right edge at {width}px: {overflow['wide']}"


# --- Keyboard ------------------------------------------------------------------

# What a focus stop looks like, for the visible-focus check and for messages.
_FOCUS_SNAPSHOT = """(el) => {
  // GOV.UK draws a radio's or checkbox's focus ring on its label's ::before.
  const isToggle = el.matches('input[type=radio], input[type=checkbox]') && el.labels && el.labels.length;
  const style = isToggle ? getComputedStyle(el.labels[0], '::before') : getComputedStyle(el);
  return {
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor, boxShadow: style.boxShadow,
    backgroundColor: style.backgroundColor, borderColor: style.borderColor,
  };
}"""

_DESCRIBE = """(el) => {
  if (!el || el === document.body) return 'the page itself (nothing focused)';
  const name = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].innerText)
                || el.innerText || el.value || el.name || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  return `<${el.tagName.toLowerCase()}${el.type ? ' type=' + el.type : ''}> "${name}"`;
}"""


def _is_opaque(colour: str) -> bool:
    if colour in ("transparent", ""):
        return False
    match = re.match(r"rgba\([^)]*,\s*([\d.]+)\)", colour)
    return not match or float(match.group(1)) > 0


def _focus_stop_script(arrived: str | None = None) -> str:
    """One round trip to the page for a focus stop: what has focus, and how it looks with and without it.

    The element is blurred for a moment to compare, then focused again, so the
    tab sequence carries on from the same place. Last, once focus is back, it
    asks whether focus has arrived: `arrived`, a JavaScript predicate taking
    the focused element, or else whether the focused element is the one
    passed to the script.
    """
    arrived_check = (f"!!document.activeElement && ({arrived})(document.activeElement)" if arrived
                     else "target !== null && target === document.activeElement")
    return f"""(target) => {{
      const el = document.activeElement;
      if (!el) return null;
      const snapshot = {_FOCUS_SNAPSHOT};
      const description = ({_DESCRIBE})(el);
      const withFocus = snapshot(el);
      el.blur();
      const withoutFocus = snapshot(el);
      el.focus({{preventScroll: true}});
      return {{description, withFocus, withoutFocus, refocused: el === document.activeElement,
               arrived: {arrived_check}}};
    }}"""


def _assert_stop_visible(tab, stop: dict | None) -> None:
    assert stop is not None, "nothing has focus"
    description, with_focus, without_focus = stop["description"], stop["withFocus"], stop["withoutFocus"]
    assert stop["refocused"], f"could not return focus to {description}"
    outline = (with_focus["outlineStyle"] != "none" and with_focus["outlineWidth"] > 0
               and _is_opaque(with_focus["outlineColor"]) and with_focus["outline"] != without_focus["outline"])
    shadow = with_focus["boxShadow"] != "none" and with_focus["boxShadow"] != without_focus["boxShadow"]
    background = (_is_opaque(with_focus["backgroundColor"])
                  and with_focus["backgroundColor"] != without_focus["backgroundColor"])
    assert outline or shadow or background, (
        f"focus is not visible on {description} at {tab.url}: focused {with_focus}, unfocused {without_focus}")


def assert_focus_visible(tab) -> None:
    """The focused element looks different from its unfocused self, in a way a person can see.

    Visible means an opaque outline, a box-shadow, or a background colour that
    only appears with focus (GOV.UK's focus state is #ffdd00 yellow). The
    element is blurred for a moment to compare, then focused again, so the tab
    sequence carries on from the same place.
    """
    _assert_stop_visible(tab, tab.evaluate(_focus_stop_script(), None))


def focus_description(tab) -> str:
    return tab.evaluate(f"() => ({_DESCRIBE})(document.activeElement)")


def tab_to(tab, target, max_presses: int = 200) -> int:
    """Press Tab until the target has focus; check at every stop that focus is visible.

    target is a Playwright locator (focus must land on the element it names) or
    a JavaScript predicate taking the focused element, e.g. "el => el.type === 'radio'".
    Returns the number of presses.
    """
    if isinstance(target, str):
        script, element = _focus_stop_script(target), None
    else:
        # Found once, not at every stop: Tab moves focus without changing the page.
        script, element = _focus_stop_script(), target.element_handle()
    visited = []
    for presses in range(1, max_presses + 1):
        tab.keyboard.press("Tab")
        stop = tab.evaluate(script, element)
        visited.append(stop["description"] if stop else focus_description(tab))
        _assert_stop_visible(tab, stop)
        if stop["arrived"]:
            return presses
    raise AssertionError(f"{target} was not reached in {max_presses} presses of Tab on {tab.url}; "
                         f"focus visited: {visited[:40]}{' …' if len(visited) > 40 else ''}")


# --- Seeding through the services ---------------------------------------------

def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


@dataclass(frozen=True)
class SeededConsultation:
    reference: str
    title: str
    document_id: int
    section_ids: dict[str, int]

    @property
    def path(self) -> str:
        return f"/consultations/{self.reference}"

    @property
    def document_path(self) -> str:
        return f"{self.path}/documents/{self.document_id}"


def seed_consultation(live_server, state: str = "open") -> SeededConsultation:
    """A consultation (open, closed or upcoming) carrying the demo cryoablation draft."""
    reference = unique("BR")
    title = f"Cryoablation for neuroma pain ({reference})"
    now = utcnow()
    opens_at, closes_at = {
        "open": (now - timedelta(days=3), now + timedelta(days=25)),
        "closed": (now - timedelta(days=40), now - timedelta(days=2)),
        "upcoming": (now + timedelta(days=4), now + timedelta(days=30)),
    }[state]
    with live_server.app_context():
        consultation = create_consultation(
            reference, title, "The committee's draft recommendations on cryoablation of a peripheral neuroma.",
            opens_at, closes_at)
        document = import_document(consultation, parse_document(DEMO_DRAFT.read_text(encoding="utf-8")))
        db.session.flush()
        seeded = SeededConsultation(
            reference=consultation.reference, title=title, document_id=document.id,
            section_ids={s.number: s.id for c in document.chapters for s in c.sections},
        )
    return seeded


def seed_user(live_server, name: str = "Robin Reader", email_verified: bool = True) -> str:
    """A stakeholder account; returns its (unique) email address. The password is PASSWORD."""
    email = f"{unique('reader-').lower()}@example.org"
    with live_server.app_context():
        register_user(email, name, PASSWORD, email_verified=email_verified)
    return email


def seed_response(live_server, email: str, seeded: SeededConsultation, comments: int = 1,
                  submitted: bool = False) -> str | None:
    """Take part as a patient and write drafts (on section 2.5, then the whole document, then chapter 1).

    Returns the receipt reference when the response is submitted.
    """
    with live_server.app_context():
        user = find_user_by_email(email)
        document = db.session.get(Document, seeded.document_id)
        consultation = document.consultation
        choice = comment_services.ParticipationChoice(
            kind=ParticipantKind.INDIVIDUAL, individual_type=IndividualType.PATIENT_OR_CARER)
        now = utcnow()
        participation = comment_services.choose_participation(user, consultation, choice, now)
        section = next(s for c in document.chapters for s in c.sections if s.number == QUOTE_SECTION)
        targets = [
            (comment_services.CommentTargetRef(document=document, chapter=section.chapter, section=section),
             "The probe description should say how long the freezing takes.", QUOTE),
            (comment_services.CommentTargetRef(document=document),
             "Please add a plain English summary at the start.", None),
            (comment_services.CommentTargetRef(document=document, chapter=document.chapters[0]),
             "The research recommendation should name quality of life outcomes.", None),
        ]
        for target, body, quote in targets[:comments]:
            comment_services.save_draft(participation, target, body, quote, now)
        receipt = None
        if submitted:
            comment_services.submit_response(participation, now)
            receipt = participation.receipt_reference
    return receipt


def receipt_reference_of(live_server, email: str, seeded: SeededConsultation) -> str | None:
    with live_server.app_context():
        user = find_user_by_email(email)
        document = db.session.get(Document, seeded.document_id)
        participation = comment_services.find_participation(user.id, document.consultation_id)
        return participation.receipt_reference if participation else None


def sign_in(tab, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page, as a person would."""
    tab.goto("/account/sign-in")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password", exact=True).fill(password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Signed in as").wait_for()


_signed_in_cookies: dict[str, list[dict]] = {}


def sign_in_over_http(context, email: str, password: str = PASSWORD) -> None:
    """Sign a browser context in by sending the sign-in form, without drawing the sign-in page.

    The same page, form and route that sign_in uses, through the context's own
    cookie jar, and the redirect is followed as a browser would. For tests about
    some other page, where drawing the sign-in page adds nothing. An account's
    cookies are kept for the rest of this worker's run, so its later contexts
    start signed in without asking the server again (the accounts are unique
    per run, and nothing here signs them out elsewhere).
    """
    from tests.conftest import csrf_token_from

    cookies = _signed_in_cookies.get(email)
    if cookies is None:
        form = context.request.get("/account/sign-in")
        assert form.ok, f"no sign-in form ({form.status})"
        landed = context.request.post("/account/sign-in", form={
            "csrf_token": csrf_token_from(form.text()), "email": email, "password": password})
        assert landed.ok and "Signed in as" in landed.text(), f"{email} could not sign in ({landed.status})"
        cookies = _signed_in_cookies[email] = context.cookies()
    else:
        context.add_cookies(cookies)


# --- Links from emails, failed email, refused sign-ins -------------------------------

def reset_link(live_server, email: str, used: bool = False) -> str:
    """The path of a password reset link for the account, as its email would carry it;
    `used` spends the link first by setting a new password through it."""
    with live_server.app_context():
        token = recovery_services.reset_token(find_user_by_email(email))
        if used:
            recovery_services.reset_password(token, PASSWORD + " renewed")
    return f"/account/reset-password?token={token}"


def verification_link(live_server, email: str) -> str:
    """The path of the link that confirms the account's email address."""
    with live_server.app_context():
        token = recovery_services.verification_token(find_user_by_email(email))
    return f"/account/verify-email?token={token}"


def seed_failed_email(live_server, to: str) -> int:
    """A password reset email to `to` that failed every attempt, as the worker leaves one; returns its id."""
    with live_server.app_context():
        user = find_user_by_email(to)
        email = recovery_services.send_password_reset(user)
        email.attempts = live_server.app.config["MAIL_MAX_ATTEMPTS"]
        mark_failed_attempt(email, "SMTPConnectError: (421, 'Service not available')", utcnow())
        email_id = email.id
    return email_id


def delete_email(live_server, email_id: int) -> None:
    with live_server.app_context():
        db.session.execute(delete(OutboxEmail).where(OutboxEmail.id == email_id))


def use_up_sign_in_attempts(live_server, email: str) -> None:
    """Count as many failed sign-ins at the account as its limit allows, in this window and the next
    (so that the next attempt from a browser it has not signed in from is refused even on the hour)."""
    with live_server.app_context():
        attempt = throttling.count_sign_in_attempt(email, None, utcnow())
        limit = parse(live_server.app.config["FAILED_SIGN_INS_PER_ACCOUNT"])
        amount, window = limit.amount, timedelta(seconds=limit.get_expiry())
        for start in (attempt.window_start, attempt.window_start + window):
            db.session.merge(SignInFailureCount(bucket=attempt.bucket, window_start=start, attempts=amount))


# --- Staff, committee and admin: accounts, submissions, moderated worlds -------------

def seed_account(live_server, name: str, role: Role) -> str:
    """An account with the given role; returns its (unique) email address. The password is PASSWORD."""
    email = f"{unique(role.value + '-').lower()}@example.org"
    with live_server.app_context():
        register_user(email, name, PASSWORD, role)
    return email


@dataclass(frozen=True)
class SeededComment:
    reference: str  # the comment number people see, e.g. BR1A2B3C4D-0003
    number: int
    body: str
    author: str
    email: str


def _moment_to_take_part(consultation: Consultation):
    """Now while the consultation is open; otherwise a moment when it was (or will be) open."""
    now = utcnow()
    if consultation.is_open_at(now):
        return now
    return consultation.opens_at + (consultation.closes_at - consultation.opens_at) / 2


def seed_submission(live_server, reference: str, body: str, *, section: str | None = None,
                    quote: str | None = None, organisation: str | None = None,
                    individual_type: IndividualType = IndividualType.PATIENT_OR_CARER,
                    author: str = "Sam Submitter", publish_name: bool = False) -> SeededComment:
    """A new stakeholder who submits one comment (on a section, or the whole document) to the
    consultation's first document; on a closed consultation it is submitted while it was open."""
    email = f"{unique('submitter-').lower()}@example.org"
    with live_server.app_context():
        user = register_user(email, author, PASSWORD)
        consultation = find_consultation(reference)
        document = consultation.documents[0]
        moment = _moment_to_take_part(consultation)
        if organisation:
            choice = comment_services.ParticipationChoice(
                kind=ParticipantKind.ORGANISATION, organisation_name=organisation,
                organisation_type=OrganisationType.CHARITY_OR_PATIENT_GROUP, publish_name=publish_name)
        else:
            choice = comment_services.ParticipationChoice(
                kind=ParticipantKind.INDIVIDUAL, individual_type=individual_type, publish_name=publish_name)
        participation = comment_services.choose_participation(user, consultation, choice, moment)
        if section is None:
            target = comment_services.CommentTargetRef(document=document)
        else:
            part = next(s for c in document.chapters for s in c.sections if s.number == section)
            target = comment_services.CommentTargetRef(document=document, chapter=part.chapter, section=part)
        comment = comment_services.save_draft(participation, target, body, quote, moment)
        comment_services.submit_response(participation, moment)
        db.session.refresh(comment)
        seeded = SeededComment(comment.reference, comment.number, body, author, email)
    return seeded


def _comment(reference: str, number: int) -> Comment:
    consultation = find_consultation(reference)
    return db.session.scalar(select(Comment).where(Comment.consultation_id == consultation.id,
                                                   Comment.number == number))


def moderate(live_server, reference: str, number: int, staff_email: str, state: ModerationState,
             reason: RejectionReason | None = None, redacted_body: str | None = None) -> None:
    """A decision made by a member of staff through the moderation service (audited as usual)."""
    with live_server.app_context():
        comment = _comment(reference, number)
        decision = moderation_services.Decision(state, reason=reason, redacted_body=redacted_body)
        moderation_services.decide_comment(comment, decision, find_user_by_email(staff_email), comment.version,
                                           utcnow())


@dataclass(frozen=True)
class ReviewWorld:
    """A closed consultation whose comments are triaged, themed and answered, and its people."""

    consultation: SeededConsultation
    staff_email: str
    committee_email: str
    committee_name: str
    themes: dict[str, int]  # name -> id
    organisation: SeededComment  # accepted, themed 'Procedure detail', agreed response
    named: SeededComment  # an individual who agreed to be named; accepted, themed 'Evidence'
    anonymous: SeededComment  # an individual who did not; redacted, themed 'Evidence'
    rejected: SeededComment  # rejected as spam
    untriaged: SeededComment  # not yet moderated, no theme
    redacted_body: str
    responses: dict[str, str]  # comment reference -> agreed response

    @property
    def reference(self) -> str:
        return self.consultation.reference

    @property
    def review_path(self) -> str:
        return f"/staff/consultations/{self.reference}/review"


ORGANISATION_NAME = "Neuroma Support Network"
NAMED_PERSON = "Robin Named"
ANONYMOUS_PERSON = "Hidden Person"


def seed_review_world(live_server, publish: bool = False) -> ReviewWorld:
    """A closed consultation with five submitted comments, moderated, themed and answered by staff,
    and a committee member assigned to it. Everything goes through the services, so it is audited."""
    seeded = seed_consultation(live_server, "closed")
    reference = seeded.reference
    staff_email = seed_account(live_server, "Morgan Moderator", Role.STAFF)
    committee_name = "Casey Committee"
    committee_email = seed_account(live_server, committee_name, Role.COMMITTEE)
    organisation = seed_submission(
        live_server, reference, "Say how long each freezing cycle lasts.", section=QUOTE_SECTION, quote=QUOTE,
        organisation=ORGANISATION_NAME, author="Olu Organiser")
    named = seed_submission(live_server, reference, "Research should report quality of life at one year.",
                            section="1.1", author=NAMED_PERSON, publish_name=True)
    anonymous = seed_submission(
        live_server, reference, "My patient Jane Doe of 4 Mill Lane waited two years for this.", section="2.1",
        individual_type=IndividualType.HEALTH_PROFESSIONAL, author=ANONYMOUS_PERSON)
    rejected = seed_submission(live_server, reference, "Buy cheap insoles at my shop today.",
                               author="Spam Sender", individual_type=IndividualType.MEMBER_OF_PUBLIC)
    untriaged = seed_submission(live_server, reference, "The whole document reads clearly.",
                                organisation="Foot Health Forum", author="Fran Forum")
    redacted_body = "My patient [name and address removed] waited two years for this."
    moderate(live_server, reference, organisation.number, staff_email, ModerationState.ACCEPTED)
    moderate(live_server, reference, named.number, staff_email, ModerationState.ACCEPTED)
    moderate(live_server, reference, anonymous.number, staff_email, ModerationState.REDACTED,
             RejectionReason.PERSONAL_DATA, redacted_body)
    moderate(live_server, reference, rejected.number, staff_email, ModerationState.REJECTED, RejectionReason.SPAM)
    responses = {
        organisation.reference: "Thank you. Section 2.5 now gives the length of a freezing cycle.",
        named.reference: "Thank you. The research recommendation now names quality of life.",
        anonymous.reference: "Thank you. The committee noted the waiting times.",
    }
    with live_server.app_context():
        staff = find_user_by_email(staff_email)
        consultation = find_consultation(reference)
        now = utcnow()
        themes = {name: moderation_services.create_theme(consultation.id, name, description, staff)
                  for name, description in [("Evidence", "The evidence base and what research should measure."),
                                            ("Procedure detail", "How the procedure is carried out.")]}
        for comment, theme in [(organisation, "Procedure detail"), (named, "Evidence"), (anonymous, "Evidence")]:
            moderation_services.tag_comment(_comment(reference, comment.number), themes[theme], staff, now)
        for comment in (organisation, named, anonymous):
            moderation_services.save_response(_comment(reference, comment.number), responses[comment.reference],
                                              ResponseState.AGREED, staff, None, now)
        assign_committee_member(staff, consultation, committee_email)
        if publish:
            publish_comments(consultation, staff, now, publication_counts(consultation))
        db.session.flush()
        theme_ids = {name: theme.id for name, theme in themes.items()}
    return ReviewWorld(seeded, staff_email, committee_email, committee_name, theme_ids, organisation, named,
                       anonymous, rejected, untriaged, redacted_body, responses)


@pytest.fixture(scope="module")
def import_staging(live_server, tmp_path_factory):
    """Uploaded drafts wait for confirmation in a temporary directory, not the app's instance folder."""
    config = live_server.app.config
    missing = object()
    before = config.get("IMPORT_STAGING_DIR", missing)
    config["IMPORT_STAGING_DIR"] = str(tmp_path_factory.mktemp("import-previews"))
    yield
    if before is missing:
        config.pop("IMPORT_STAGING_DIR", None)
    else:
        config["IMPORT_STAGING_DIR"] = before


def sign_out(tab) -> None:
    """Sign out with the header's button, as a person would."""
    tab.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    tab.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").wait_for()
