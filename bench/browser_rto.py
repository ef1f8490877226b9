"""The browser-visible RTO: how long a person with the app open waits, when the primary region goes down, until
a ticket they create is saved — on the same page, without a reload — measured in Debian's chromium on the local
cloud, next to the DNS path's RTO (Route 53 failover, what a client that only follows `api.<domain>` waits).

    .venv/bin/python bench/browser_rto.py [--rounds 5] [--time-scale 0.1] [--output text|json]

A local cloud (local.time_scale 0.1: the DNS plane's checks and TTL run ten times faster) gets build-api, build-ui
and replicate. The page signs in and creates a ticket through the primary. Then, each round: `local outage
eu-west-1` (every data-plane endpoint of the primary answers 503 at once), and at that moment the same page
submits a ticket; the round's RTO is the time from the outage to the create's successful answer (from the
secondary). The outage ends, and the next round waits until the page is back on the primary. Browser RTOs are
real seconds (the page does not wait for DNS, so the time scale does not shorten them); the DNS path's are given
scaled and as their real-time equivalent. Target: browser-visible RTO ≤ 5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the local cloud, deploy and failover figures)

PRIMARY = "eu-west-1"
TARGET_SECONDS = 5.0


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("chromium is not installed (apt-get install chromium; ./run test installs it as root)")


def browser_rounds(site_url: str, running: Any, rounds: int) -> list[dict[str, Any]]:
    from playwright.sync_api import expect, sync_playwright

    from wildrydes_mr.local import cloud

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_context().new_page()
        page.set_default_timeout(30_000)
        answers: list[tuple[float, int, str]] = []  # every create attempt: (when, status (0: no answer), url)
        page.on("response", lambda r: answers.append((time.monotonic(), r.status, r.url))
                if r.request.method == "POST" and r.url.endswith("/tickets") else None)
        page.on("requestfailed", lambda r: answers.append((time.monotonic(), 0, r.url))
                if r.method == "POST" and r.url.endswith("/tickets") else None)
        region_of = {url.rstrip("/"): region for region, url in running.api_urls.items()}
        page.goto(site_url)
        page.get_by_test_id("signin-name").fill("Bench Rider")
        page.get_by_test_id("signin-button").click()
        expect(page.get_by_test_id("user-name")).to_have_text("Bench Rider")
        for number in range(rounds + 1):  # round 0: a create through the healthy primary (warms the page up)
            expect(page.get_by_test_id("region")).to_have_attribute("data-down", "", timeout=60_000)
            description = f"Browser RTO round {number}: saved while the primary is down."
            seen = len(answers)
            if number:
                cloud.set_outage(running, PRIMARY)
            started = time.monotonic()
            page.get_by_test_id("ticket-description").fill(description)
            page.get_by_test_id("ticket-assigned").fill("bench")
            page.get_by_test_id("ticket-submit").click()
            expect(page.get_by_test_id("ticket-item").filter(has_text=description)).to_have_count(1)
            saved = next((at, url) for at, status, url in answers[seen:] if status in (200, 201))
            if number:
                gateway = saved[1].split("/owners/")[0].rsplit("/", 2)[0]
                results.append({"round": number, "rto_seconds": round(saved[0] - started, 3),
                                "failed_attempts": [(status, region_of.get(url.split("/owners/")[0]
                                                                           .rsplit("/", 2)[0], url))
                                                    for _, status, url in answers[seen:]
                                                    if status >= 500 or status == 0],
                                "saved_by": region_of.get(gateway, gateway)})
                cloud.set_outage(running, None)
        browser.close()
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    from wildrydes_mr.workflows import cleanup

    with bench.local_cloud(args.time_scale) as env:
        phases = bench.deploy(env["options"])
        state = json.loads((env["workdir"] / "state.json").read_text())
        site_url = state["extras"]["site_url"]
        rounds = browser_rounds(site_url, env["cloud"], args.rounds)
        dns = bench.failover_figures(env["options"], env["workdir"], args.time_scale)
        bench.run_phase(env["options"], "cleanup", cleanup)
    rtos = [r["rto_seconds"] for r in rounds]
    return {"environment": bench.environment(), "deploy_seconds": phases["cold full deploy (total)"]["seconds"],
            "browser": {"rounds": rounds, "median_seconds": round(statistics.median(rtos), 3),
                        "max_seconds": max(rtos), "target_seconds": TARGET_SECONDS,
                        "met": max(rtos) <= TARGET_SECONDS},
            "dns_path": {k: dns.get(k) for k in ("time_scale", "rto_seconds", "rto_real_equivalent_seconds",
                                                 "predicted_rto_seconds", "predicted_rto_real_equivalent_seconds",
                                                 "passed")}}


def main() -> None:
    results = bench.script_results(__doc__, run, lambda parser: parser.add_argument("--rounds", type=int, default=5))
    if results is None:
        return
    browser, dns = results["browser"], results["dns_path"]
    for r in browser["rounds"]:
        print(f"round {r['round']}: saved after {r['rto_seconds']:.2f} s by {r['saved_by']} "
              f"(failed first: {r['failed_attempts'] or 'none'})")
    print(f"browser-visible RTO: median {browser['median_seconds']:.2f} s, max {browser['max_seconds']:.2f} s "
          f"(target ≤ {TARGET_SECONDS:.0f} s: {'met' if browser['met'] else 'MISSED'})")
    print(f"DNS path RTO: {dns['rto_seconds']} s at time scale {dns['time_scale']} "
          f"= {dns['rto_real_equivalent_seconds']} s real (predicted {dns['predicted_rto_real_equivalent_seconds']} s)")


if __name__ == "__main__":
    main()
