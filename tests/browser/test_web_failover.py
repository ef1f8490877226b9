"""The web app fails over between the two regions by itself (web/js/failover.js, session.js), in chromium against
the fake two-region backend (browser_fake_cloud.py): the API, sign-in and renewals, and creates that are safe to
retry. Screenshots: artifacts/screenshots/<test name>/NN-step.png.

The time from taking the primary down to the first successful create on the open page is logged (logger of this
module, INFO: `-o log_cli=true --log-cli-level=INFO` shows it); the test asserts only the behaviour.
"""

from __future__ import annotations

import logging
import time

from browser_fake_cloud import PRIMARY, SECONDARY, FakeCloud, user_id
from browser_web_steps import create_ticket, refresh_list, sign_in, stored_session, tid, wait_until
from playwright.sync_api import Page, expect

log = logging.getLogger(__name__)
BACK_TO_PRIMARY_TIMEOUT_MS = 12000  # the page probes the primary every 5 s


def posts_since(cloud: FakeCloud, count: int):
    return cloud.calls_to("tickets", "POST")[count:]


def ticket_calls_since(cloud: FakeCloud, count: int):
    """Every request to the ticket routes (preflights too) after the first `count`."""
    return cloud.calls_to("tickets")[count:]


def test_the_open_page_fails_over_when_the_primary_goes_down_and_returns(page: Page, cloud: FakeCloud, shot,
                                                                        record_property):
    sign_in(page, cloud, "Alice Rider")
    create_ticket(page, "Before the outage: the saddle squeaks.")
    expect(tid(page, "ticket-item").first).to_contain_text("Before the outage")
    expect(tid(page, "region")).to_have_text(PRIMARY)
    shot("before the outage")

    # The primary goes down (connections dropped); DNS still points the failover name (apiUrl) at it.
    before = len(cloud.calls_to("tickets"))
    cloud.take_down(PRIMARY)
    down_at = time.monotonic()
    create_ticket(page, "During the outage: created through the secondary.")
    expect(tid(page, "ticket-item").first).to_contain_text("During the outage")
    rto = time.monotonic() - down_at
    log.info("browser-visible RTO: first successful create %.2f s after the primary went down", rto)
    record_property("browser_visible_rto_s", round(rto, 2))
    expect(tid(page, "form-error")).to_be_hidden()
    expect(tid(page, "banner")).to_be_hidden()
    # The call to apiUrl got no answer (its preflight or the POST itself: the connection dropped), and the same
    # call went at once to the secondary's own URL, signed for it.
    posts = ticket_calls_since(cloud, before)
    unanswered = [c for c in posts if c.region == PRIMARY]
    assert unanswered and all(c.status == 0 and c.via == "failover-name" for c in unanswered), posts
    assert [(c.region, c.via, c.status, c.signed_region) for c in posts if c.method == "POST" and c.status] == [
        (SECONDARY, "regional", 201, SECONDARY)], posts

    # The badge: the secondary serves, the primary is down; the page keeps using the secondary.
    expect(tid(page, "region")).to_contain_text(SECONDARY)
    expect(tid(page, "region")).to_contain_text(f"{PRIMARY} down")
    expect(tid(page, "region")).to_have_attribute("data-down", PRIMARY)
    expect(tid(page, "region")).to_have_attribute("data-state", "healthy")
    shot("served by the secondary, primary down")
    gets = len(cloud.calls_to("tickets", "GET"))
    refresh_list(page)
    expect(tid(page, "ticket-item")).to_have_count(2)
    assert [(c.region, c.status) for c in cloud.calls_to("tickets", "GET")[gets:]] == [(SECONDARY, 200)]

    # The primary is back: within a probe or two the page returns to apiUrl by itself.
    cloud.bring_up(PRIMARY)
    expect(tid(page, "region")).to_have_attribute("data-down", "", timeout=BACK_TO_PRIMARY_TIMEOUT_MS)
    expect(tid(page, "region")).to_have_text(PRIMARY)
    assert any(c.region == PRIMARY and c.status == 200 for c in cloud.calls_to("health", "GET", region=PRIMARY))
    before = len(cloud.calls_to("tickets", "POST"))
    create_ticket(page, "After the outage: back on the primary.")
    expect(tid(page, "ticket-item").first).to_contain_text("After the outage")
    assert [(c.region, c.via, c.status) for c in posts_since(cloud, before)] == [(PRIMARY, "failover-name", 201)]
    expect(tid(page, "ticket-item")).to_have_count(3)
    shot("back on the primary")
    assert len(cloud.tickets_of(user_id("Alice Rider"))) == 3


def test_an_unhealthy_primary_moves_the_page_to_the_secondary(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud)
    cloud.primary.healthy, cloud.primary.reason = False, "table read failed"  # /health answers 503
    tid(page, "region-refresh").click()
    expect(tid(page, "region")).to_have_attribute("data-down", PRIMARY)
    expect(tid(page, "region")).to_contain_text(SECONDARY)
    shot("primary unhealthy, secondary serving", full_page=False)
    before = len(cloud.calls_to("tickets", "POST"))
    create_ticket(page, "Created while the primary is unhealthy.")
    expect(tid(page, "ticket-item").first).to_contain_text("Created while the primary is unhealthy.")
    assert [(c.region, c.status) for c in posts_since(cloud, before)] == [(SECONDARY, 201)]
    cloud.primary.healthy = True
    expect(tid(page, "region")).to_have_attribute("data-down", "", timeout=BACK_TO_PRIMARY_TIMEOUT_MS)


def test_sign_in_uses_the_secondary_pool_when_the_primary_cognito_is_down(new_page, cloud: FakeCloud, shot):
    first = new_page()
    sign_in(first, cloud, "Sam Second")
    create_ticket(first, "Made while signed in through the primary's pool.")
    expect(tid(first, "ticket-item").first).to_contain_text("primary's pool")

    # Only the primary's Cognito answers 503; a new browser session signs the same user in through the
    # secondary's pool (another identity id, the same owner) and sees the ticket made before.
    cloud.take_down(PRIMARY, "503", api=False)
    calls = len(cloud.calls_to("cognito"))
    page = new_page()
    sign_in(page, cloud, "Sam Second")
    expect(tid(page, "ticket-item")).to_have_count(1)
    expect(tid(page, "ticket-item").first).to_contain_text("primary's pool")
    shot("signed in through the secondary's pool", page)
    # The primary's Cognito was asked first (its CORS preflight got the 503, so the browser sent no POST).
    cognito = cloud.calls_to("cognito")[calls:]
    assert (cognito[0].region, cognito[0].status) == (PRIMARY, 503), cognito
    assert [(c.target, c.region) for c in cognito if c.status == 200 and c.method == "POST"][:2] == [
        ("GetId", SECONDARY), ("GetCredentialsForIdentity", SECONDARY)], cognito
    assert not [c for c in cognito if c.region == PRIMARY and c.status != 503], cognito
    session = stored_session(page)
    assert session["identityId"] == cloud.identity_id(SECONDARY, "Sam Second")
    assert session["owner"] == user_id("Sam Second")

    # Credentials from the secondary's pool sign for the primary's API, which still serves.
    before = len(cloud.calls_to("tickets", "POST"))
    create_ticket(page, "Made with the secondary pool's credentials.")
    expect(tid(page, "ticket-item").first).to_contain_text("secondary pool's credentials")
    assert [(c.region, c.status, c.identity_id) for c in posts_since(cloud, before)] == [
        (PRIMARY, 201, cloud.identity_id(SECONDARY, "Sam Second"))]


def test_a_renewal_goes_through_the_other_pool_when_the_issuing_one_is_down(page: Page, cloud: FakeCloud, shot):
    cloud.credential_lifetime = 4  # the page renews half-way: every 2 s
    sign_in(page, cloud, "Rene Renew")
    assert stored_session(page)["identityId"] == cloud.identity_id(PRIMARY, "Rene Renew")

    # The primary's Cognito goes down: the next renewal signs in again through the secondary's pool with the
    # same login token, instead of ending the session.
    cloud.take_down(PRIMARY, api=False)
    wait_until(page, lambda: (stored_session(page) or {}).get("identityId") == cloud.identity_id(SECONDARY,
               "Rene Renew"), 10, "the renewal through the secondary's pool")
    expect(tid(page, "user-name")).to_have_text("Rene Renew")
    expect(tid(page, "banner")).to_be_hidden()
    create_ticket(page, "Created after renewing through the secondary.")
    expect(tid(page, "ticket-item").first).to_contain_text("renewing through the secondary")
    shot("renewed through the secondary's pool")

    # The primary's Cognito is back, but the identity is the secondary pool's: renewals stay with it.
    cloud.bring_up(PRIMARY)
    calls = len(cloud.calls_to("cognito", "POST"))
    wait_until(page, lambda: any(c.target == "GetCredentialsForIdentity" and c.status == 200
                                 for c in cloud.calls_to("cognito", "POST")[calls:]), 8, "another renewal")
    renewals = [c for c in cloud.calls_to("cognito", "POST")[calls:] if c.target == "GetCredentialsForIdentity"]
    assert renewals and {c.region for c in renewals} == {SECONDARY}
    assert [c for c in cloud.calls_to("cognito", "POST")[calls:] if c.target == "GetId"] == []


def test_a_create_retried_after_a_dropped_answer_makes_one_ticket(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud, "Dora Dropped")
    cloud.primary.drop_answers = 1  # the primary stores the ticket, then the answer is lost
    create_ticket(page, "Stored by the primary, its answer lost.")
    expect(tid(page, "ticket-item").first).to_contain_text("its answer lost")
    posts = cloud.calls_to("tickets", "POST")
    assert [(c.region, c.status, c.message) for c in posts] == [(PRIMARY, 201, "answer 201 dropped"),
                                                                (SECONDARY, 200, "")], posts
    assert posts[0].body["id"] == posts[1].body["id"]
    assert len(cloud.tickets_of(user_id("Dora Dropped"))) == 1
    refresh_list(page)
    expect(tid(page, "ticket-item")).to_have_count(1)
    shot("one ticket")


def test_before_replicate_nothing_fails_over_and_a_resubmit_keeps_the_id(page: Page, cloud: FakeCloud, shot):
    cloud.replicated = False  # config.js names one region: apiUrl is the primary's regional URL
    sign_in(page, cloud, "Una Single")
    cloud.primary.drop_answers = 1
    description = "Submitted twice, stored once."
    create_ticket(page, description)
    expect(tid(page, "form-error")).to_contain_text("can't be reached")
    expect(tid(page, "region")).to_have_attribute("data-down", "")
    shot("no answer, nothing to fail over to")
    tid(page, "ticket-submit").click()  # the same fields: the same ticket id
    expect(tid(page, "ticket-item").first).to_contain_text(description)
    posts = cloud.calls_to("tickets", "POST")
    assert [(c.region, c.via, c.status) for c in posts] == [(PRIMARY, "regional", 201), (PRIMARY, "regional", 200)]
    assert posts[0].body["id"] == posts[1].body["id"]
    assert len(cloud.tickets_of(user_id("Una Single"))) == 1
    assert not [c for c in cloud.calls if c.region == SECONDARY], "a single-region page called the secondary"

    # Another ticket with other fields gets a new id.
    create_ticket(page, "A different ticket after the resubmit.")
    expect(tid(page, "ticket-item")).to_have_count(2)
    assert cloud.calls_to("tickets", "POST")[-1].body["id"] != posts[0].body["id"]
