"""Targets, the results table, the JSON files and the README section: everything a run reports.

The targets live here, beside the code that judges them, so that the README,
the JSON and the printed table can never disagree about what PASS means.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

# Each project scenario is compared with the baseline scenario that does the same job.
BASELINE_FOR = {"document_page": "baseline_page", "triage_queue": "baseline_page", "comment_save": "baseline_insert"}
LABELS = {
    "baseline_page": "baseline: 50-row table (GET)",
    "document_page": "document page, 60 sections + drafts (GET)",
    "triage_queue": "triage queue, first 25 of 10,000 comments (GET)",
    "baseline_insert": "baseline: insert one row (POST)",
    "comment_save": "save a draft comment (POST)",
}
ORDER = ["document_page", "triage_queue", "baseline_page", "comment_save", "baseline_insert"]


@dataclass(frozen=True)
class Target:
    scenario: str
    name: str
    metric: str  # "ratio", "p95_ms", "p99_ms" or "errors"
    limit: float
    at_least: bool  # True: measured >= limit passes; False: measured <= limit passes

    def describe(self) -> str:
        if self.metric == "ratio":
            return f"≥ {self.limit:g}× baseline req/s"
        if self.metric == "errors":
            return "0 errors"
        return f"{self.metric.removesuffix('_ms')} ≤ {self.limit:g} ms"


TARGETS = [
    Target("comment_save", "throughput", "ratio", 0.5, True),
    Target("comment_save", "p99 latency", "p99_ms", 250, False),
    Target("comment_save", "errors", "errors", 0, False),
    Target("document_page", "throughput", "ratio", 0.5, True),
    Target("document_page", "p95 latency", "p95_ms", 100, False),
    Target("document_page", "p99 latency", "p99_ms", 250, False),
    Target("document_page", "errors", "errors", 0, False),
    Target("triage_queue", "throughput", "ratio", 0.3, True),
    Target("triage_queue", "errors", "errors", 0, False),
]


def ratio(results: dict, scenario: str) -> float | None:
    baseline = results.get(BASELINE_FOR.get(scenario, ""))
    if scenario not in results or not baseline or not baseline["rate"]:
        return None
    return results[scenario]["rate"] / baseline["rate"]


def evaluate(results: dict) -> list[dict]:
    """One verdict per target for one database's results (scenario name -> LoadResult dict)."""
    verdicts = []
    for target in TARGETS:
        if target.scenario not in results:
            continue
        if target.metric == "ratio":
            measured = ratio(results, target.scenario)
        else:
            measured = results[target.scenario][target.metric]
        passed = measured is not None and (measured >= target.limit if target.at_least else measured <= target.limit)
        verdicts.append({"scenario": target.scenario, "target": target.describe(), "metric": target.metric,
                         "measured": measured, "verdict": "PASS" if passed else "MISS"})
    return verdicts


def missed_scenarios(verdicts: list[dict]) -> list[str]:
    return sorted({v["scenario"] for v in verdicts if v["verdict"] == "MISS"}, key=ORDER.index)


def _measured(verdict: dict) -> str:
    value = verdict["measured"]
    if value is None:
        return "n/a"
    if verdict["metric"] == "ratio":
        return f"{value:.2f}×"
    if verdict["metric"] == "errors":
        return f"{value:d}"
    return f"{value:.1f} ms"


def measurements_table(runs: list[dict]) -> str:
    rows = ["| Database | Scenario | req/s | × baseline | p50 ms | p95 ms | p99 ms | errors | requests |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        results = run["scenarios"]
        for scenario in ORDER:
            if scenario not in results:
                continue
            r = results[scenario]
            times = ratio(results, scenario)
            rows.append(
                f"| {run['database']} | {LABELS[scenario]} | {r['rate']:.1f} | "
                f"{'' if times is None else f'{times:.2f}×'} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['errors']} | {r['requests']} |")
    return "\n".join(rows)


def targets_table(runs: list[dict]) -> str:
    rows = ["| Database | Scenario | Target | Measured | Result |", "|---|---|---|---:|---|"]
    for run in runs:
        for verdict in run["targets"]:
            rows.append(f"| {run['database']} | {LABELS[verdict['scenario']]} | {verdict['target']} | "
                        f"{_measured(verdict)} | {verdict['verdict']} |")
    return "\n".join(rows)


def profiles_table(runs: list[dict]) -> str:
    """For each missed scenario: where its in-process time went, from the profile.

    Shares are of the profiled request; milliseconds are quoted without the profiler,
    since cProfile's per-call overhead inflates call-heavy code (ORM, templates) most.
    """
    rows = []
    for run in runs:
        for profile in run.get("profiles", []):
            work = [m for m in profile["markers"] if not m["work"].startswith(("whole request", "view function"))]
            work.sort(key=lambda m: -m["share"])
            kinds = ", ".join(f"{m['work']} {m['share']:.0%}" for m in work[:4])
            packages = ", ".join(f"{p['package']} {p['share']:.0%}" for p in profile["self_time_by_package"][:4])
            phases = profile.get("phases_ms") or {}
            rows.append(
                f"- {run['database']}, {LABELS[profile['scenario']]}: {profile['ms_per_request']:.1f} ms per "
                f"request in-process without the profiler (the baseline: "
                f"{profile.get('baseline_ms_per_request') or 0:.1f} ms): "
                + (f"view before rendering {phases.get('view_without_rendering', 0):.1f} ms, rendering "
                   f"{phases['rendering']:.1f} ms, " if phases.get("rendering") else
                   f"view {phases.get('view', 0):.1f} ms (it renders nothing: it redirects), ")
                + f"outside the view {phases.get('outside_the_view', 0):.1f} ms; {phases.get('sql', 0):.1f} ms of "
                f"it executing {profile['queries_per_request']:g} SQL statements in the driver. "
                f"Share of the profiled request: {kinds}. Self time: {packages}. "
                f"Listing: `results/{profile['text_path']}`.")
            if profile.get("write_lock"):
                alone, two = profile["write_lock"]["one_process"], profile["write_lock"]["two_processes"]
                rows.append(
                    f"  SQLite write lock: one process alone saves {alone['saves_per_s']:g}/s; two at once save "
                    f"{two['saves_per_s']:g}/s together, with {two['begin_immediate_per_save']:g} BEGIN IMMEDIATE "
                    f"per save waiting p95 {two['lock_wait_ms']['p95']:g} ms, p99 {two['lock_wait_ms']['p99']:g} ms "
                    f"({two['share_of_save_time_waiting']:.0%} of save time); save p99 "
                    f"{alone['save_ms']['p99']:g} ms alone, {two['save_ms']['p99']:g} ms two at once.")
    return "\n".join(rows)


def summary_line(runs: list[dict]) -> str:
    env = runs[0]["environment"]
    settings = runs[0]["settings"]
    engines = "; ".join(f"{run['database']} {run['environment']['database_version']}" for run in runs)
    return (f"Run {env['finished_at']} at commit {env['commit']} on {env['cpus']} CPUs, Python {env['python']}, "
            f"{engines}, {env['wrk']}. {settings['workers']} gunicorn sync workers; wrk with "
            f"{settings['connections']} connections, {settings['duration_s']} s per scenario after a "
            f"{settings['warmup_s']} s warm-up, at most {settings['max_requests']:,} requests; "
            f"{settings['users']} signed-in users with {settings['drafts_per_user']} drafts each. "
            "Load average before each engine's run: "
            + ", ".join(f"{run['database']} {run['environment']['load_average_before']:.2f}" for run in runs)
            + ".")


def results_markdown(runs: list[dict]) -> str:
    parts = [summary_line(runs), "", measurements_table(runs), "", targets_table(runs)]
    profiles = profiles_table(runs)
    if profiles:
        parts += ["", "Profiles of the scenarios that missed a target (in-process, test client, cProfile):", "",
                  profiles]
    return "\n".join(parts)


def remove_profiles(database: str) -> None:
    for listing in RESULTS_DIR.glob(f"profile-{database}-*.txt"):
        listing.unlink()


def write_json(run: dict) -> Path:
    """bench/results/<database>.json, replaced atomically so a crashed run never leaves half a file."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{run['database']}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(run, indent=2, sort_keys=False) + "\n")
    os.replace(temporary, path)
    return path


def rewrite_readme(markdown: str, readme: Path = README) -> None:
    """Replace what stands between the results markers; the rest of the README is left alone."""
    text = readme.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise RuntimeError(f"{readme.name} has no {START} ... {END} section to rewrite")
    updated = text[:start + len(START)] + "\n" + markdown + "\n" + text[end:]
    RESULTS_DIR.mkdir(exist_ok=True)
    temporary = RESULTS_DIR / "README.md.tmp"
    temporary.write_text(updated)
    os.replace(temporary, readme)
