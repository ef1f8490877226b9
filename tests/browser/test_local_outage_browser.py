"""A regional outage, as a person using the app lives it, on the real local cloud: build-api, build-ui and
replicate deploy both regions; `wildrydes local outage eu-west-1` takes the primary's sign-in, site bucket and
API down at once (moto stays up). A new browser session still loads the site (CloudFront's origin group, from
the secondary's bucket), the same user signs in again (through the secondary's identity pool), sees the tickets
made before the outage (replicated) and makes new ones; another user sees none of them (their owner path is
not theirs to invoke); after `outage --end` the page is back on the primary, which holds every ticket.
Screenshots: artifacts/screenshots/test_a_user_rides_out_the_loss_of_the_primary_region/."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_helpers import local_deployment, moto_client, wildrydes_json  # noqa: E402
from local_cloud_steps import create, sign_in, tid  # noqa: E402

from wildrydes_mr.local import facebook  # noqa: E402

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    with local_deployment(tmp_path_factory.mktemp("browser-outage"), "local: {time_scale: 0.1}\n",
                          "build-api", "build-ui", "replicate") as env:
        yield {**env, "site_url": env["replicate"]["site_url"], "aws_endpoint": env["started"]["aws_endpoint"]}


def owners_in(endpoint: str, region: str, owner: str) -> set[str]:
    items = moto_client(endpoint, "dynamodb", region).scan(TableName="SXRTickets")["Items"]
    return {item["description"]["S"] for item in items if item.get("owner", {}).get("S") == owner}


def test_a_user_rides_out_the_loss_of_the_primary_region(new_page, replicated, shot):
    site_url, workdir, config = replicated["site_url"], replicated["workdir"], replicated["config"]
    before = ["Before the outage: the saddle squeaks.", "Before the outage: a wing feather is loose."]
    page = new_page()
    sign_in(page, site_url, "Ada Rider")
    expect(tid(page, "region")).to_have_text(PRIMARY)
    for description in before:
        create(page, description, priority="high")
        expect(tid(page, "ticket-item").filter(has_text=description)).to_have_count(1)
    shot("ada's tickets in the primary", page)

    status = wildrydes_json(workdir, "local", "outage", PRIMARY, config=config)
    assert status["outage"] == [PRIMARY]
    assert wildrydes_json(workdir, "local", "status", config=config)["outage"] == [PRIMARY]

    # A new session, with the primary's sign-in, site bucket and API all down.
    during = new_page()
    sign_in(during, site_url, "Ada Rider")
    expect(tid(during, "region")).to_contain_text(SECONDARY)
    expect(tid(during, "region")).to_have_attribute("data-down", PRIMARY)
    for description in before:  # replicated before the outage
        expect(tid(during, "ticket-item").filter(has_text=description)).to_have_count(1)
    shot("ada signs in again through the secondary", during)
    during_ticket = "During the outage: written in the secondary."
    create(during, during_ticket)
    expect(tid(during, "ticket-item").filter(has_text=during_ticket)).to_have_count(1)
    shot("ada creates a ticket during the outage", during)

    other = new_page()
    sign_in(other, site_url, "Bea Rider")
    expect(tid(other, "region")).to_contain_text(SECONDARY)
    expect(other.get_by_text("No tickets yet")).to_be_visible()
    expect(tid(other, "ticket-item")).to_have_count(0)
    shot("bea sees none of ada's tickets", other)

    wildrydes_json(workdir, "local", "outage", "--end", config=config)
    # The page goes back to the failover name by itself once the primary answers (it probes the primary's
    # /health every few seconds); the name answers from the primary once Route 53 (the local DNS plane) has
    # seen its health check pass again — the region button asks which region serves.
    expect(tid(during, "region")).to_have_attribute("data-down", "", timeout=30_000)
    for _ in range(60):
        if tid(during, "region").inner_text().strip() == PRIMARY:
            break
        tid(during, "region-refresh").click()
        during.wait_for_timeout(500)
    expect(tid(during, "region")).to_have_text(PRIMARY)
    after_ticket = "After the outage: back in the primary."
    create(during, after_ticket)
    expect(tid(during, "form-error")).to_be_hidden()
    during.get_by_role("button", name="Refresh", exact=True).click()
    for description in [*before, during_ticket, after_ticket]:
        expect(tid(during, "ticket-item").filter(has_text=description)).to_have_count(1)
    shot("after the outage, every ticket in the primary", during)
    # The primary's table holds them all (the secondary's write came back through replication), under Ada's
    # owner; Bea owns nothing.
    ada, bea = facebook.user_id("Ada Rider"), facebook.user_id("Bea Rider")
    endpoint = replicated["aws_endpoint"]
    # By replication, so within a bound: a create the primary answered with a 5xx just after its return is sent
    # at once to the secondary by the page (and replicated back), as a global table's write would be on AWS.
    wanted = {*before, during_ticket, after_ticket}
    deadline = time.monotonic() + 15
    while not owners_in(endpoint, PRIMARY, ada) >= wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert owners_in(endpoint, PRIMARY, ada) >= wanted
    assert owners_in(endpoint, PRIMARY, bea) == set()
