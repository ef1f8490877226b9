"""The web app in chromium against a fake backend (browser_fake_cloud.py): site and API on two origins, Cognito
emulated, every /ticket call's SigV4 signature recomputed with botocore.

Screenshots of every step: artifacts/screenshots/<test name>/NN-step.png.
"""

from __future__ import annotations

import re

import pytest
from browser_fake_cloud import FakeCloud
from browser_support import PHONE, WEB_ROOT
from playwright.sync_api import Page, expect

LOCAL_NOTICE = "Local sign-in — stands in for Facebook on the local cloud"


@pytest.fixture
def cloud():
    fake = FakeCloud(WEB_ROOT).start()
    try:
        yield fake
    finally:
        fake.stop()


def tid(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def sign_in(page: Page, cloud: FakeCloud, name: str = "Alice Rider") -> None:
    page.goto(cloud.site_url)
    tid(page, "signin-name").fill(name)
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text(name)
    expect(page.locator(".list-status")).to_have_text("")  # the first page of tickets is in


def create_ticket(page: Page, description: str, assigned: str = "Support team", priority: str = "medium",
                  status: str = "open") -> None:
    tid(page, "ticket-description").fill(description)
    tid(page, "ticket-assigned").fill(assigned)
    tid(page, "ticket-priority").select_option(priority)
    tid(page, "ticket-status").select_option(status)
    tid(page, "ticket-submit").click()


def storage(page: Page) -> dict:
    return page.evaluate("() => ({session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage)})")


def test_ticketing_journey(page: Page, cloud: FakeCloud, shot):
    # Sign-in page: the local stand-in for Facebook, clearly labelled; the header shows the serving region.
    facebook_requests = []
    page.on("request", lambda r: "facebook" in r.url and facebook_requests.append(r.url))
    page.goto(cloud.site_url)
    expect(page.get_by_text(LOCAL_NOTICE)).to_be_visible()
    expect(tid(page, "region")).to_have_text("eu-west-1")
    expect(tid(page, "banner")).to_be_hidden()
    expect(tid(page, "signout-button")).to_be_hidden()
    shot("sign-in page")

    # Sign in: Cognito GetId + GetCredentialsForIdentity; the list loads (signed GET), empty.
    tid(page, "signin-name").fill("Alice Rider")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Alice Rider")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    shot("signed in, no tickets")
    kept = storage(page)
    assert "local:Alice Rider" in kept["session"]  # the login token, so that a reload stays signed in
    assert kept["local"] == "{}"
    assert not any(secret in kept["session"] for secret in cloud.secrets_issued()), "credentials in storage"

    # Create a ticket: it appears at the top of the list, and the API stored it for this identity.
    create_ticket(page, "My unicorn refused to fly over the river.", "Support team", "high", "open")
    first = tid(page, "ticket-item").first
    expect(first).to_contain_text("My unicorn refused to fly over the river.")
    expect(first).to_contain_text("Support team")
    expect(first).to_contain_text("high")
    expect(tid(page, "form-error")).to_be_hidden()
    expect(tid(page, "ticket-description")).to_have_value("")
    shot("ticket created")
    assert len(cloud.tickets) == 1
    created = cloud.calls_to("/prod/ticket", "POST")
    assert [c.status for c in created] == [201] and created[0].region == "eu-west-1"
    assert cloud.tickets[0]["createdBy"].startswith("eu-west-1:")

    # The region serving the API is in the header.
    expect(tid(page, "region")).to_have_text("eu-west-1")
    expect(tid(page, "region")).to_have_attribute("data-state", "healthy")
    shot("region in the header", full_page=False)

    # Too short a description: not blocked in the page; the API's 400 message is shown in the form.
    create_ticket(page, "abc")
    message = "Field 'description' must be 10-2000 characters (after trimming), got 3"
    expect(tid(page, "form-error")).to_have_text(message)
    expect(tid(page, "ticket-description")).to_have_attribute("aria-invalid", "true")
    assert [c.status for c in cloud.calls_to("/prod/ticket", "POST")] == [201, 400]
    assert len(cloud.tickets) == 1
    shot("api refuses a short description")

    # Nothing typed at all: caught in the page, nothing sent.
    tid(page, "ticket-description").fill("   ")
    tid(page, "ticket-assigned").fill("")
    tid(page, "ticket-submit").click()
    expect(page.locator("#description-error")).to_have_text("Describe what went wrong.")
    expect(page.locator("#assigned-error")).to_have_text("Say who should handle this ticket.")
    assert len(cloud.calls_to("/prod/ticket", "POST")) == 2
    shot("missing values caught in the page")

    # A reload stays signed in (login token and identity id in sessionStorage) and lists the ticket again.
    page.reload()
    expect(tid(page, "user-name")).to_have_text("Alice Rider")
    expect(tid(page, "ticket-item")).to_have_count(1)
    expect(tid(page, "ticket-item").first).to_contain_text("My unicorn refused to fly over the river.")
    shot("reloaded, still signed in")

    # More tickets than a page (10): "Load more" follows the `next` token until there is none.
    for number in range(1, 13):
        cloud.add_ticket(f"Seeded ticket number {number:02d}, newest last.")
    page.reload()
    expect(tid(page, "ticket-item")).to_have_count(10)
    expect(tid(page, "ticket-item").first).to_contain_text("Seeded ticket number 12")
    expect(tid(page, "load-more")).to_be_visible()
    shot("first page of tickets")
    tid(page, "load-more").click()
    expect(tid(page, "ticket-item")).to_have_count(13)
    expect(tid(page, "ticket-item").last).to_contain_text("My unicorn refused to fly over the river.")
    expect(tid(page, "load-more")).to_be_hidden()
    shot("all tickets loaded")
    listed = cloud.calls_to("/prod/ticket", "GET")
    assert all(c.status == 200 for c in listed) and len(listed) >= 4

    # The API goes down: the banner says so, the region is unknown, a ticket is not lost.
    cloud.down = True
    tid(page, "region-refresh").click()
    expect(tid(page, "banner")).to_be_visible()
    expect(tid(page, "banner")).to_contain_text("Can't reach the Wild Rydes API")
    expect(tid(page, "region")).to_have_text("unreachable")
    create_ticket(page, "Sent while the API is down, must stay in the form.")
    expect(tid(page, "form-error")).to_contain_text("can't be reached")
    expect(tid(page, "ticket-description")).to_have_value("Sent while the API is down, must stay in the form.")
    shot("api unreachable")

    # Back up: "Try again" clears the banner and the region comes back.
    cloud.down = False
    tid(page, "banner").get_by_role("button", name="Try again").click()
    expect(tid(page, "banner")).to_be_hidden()
    expect(tid(page, "region")).to_have_text("eu-west-1")
    shot("api reachable again")

    # Sign out: back to the sign-in form, nothing kept.
    tid(page, "signout-button").click()
    expect(tid(page, "signin-name")).to_be_visible()
    expect(tid(page, "user-name")).to_be_hidden()
    expect(tid(page, "ticket-list")).to_be_hidden()
    assert storage(page) == {"session": "{}", "local": "{}"}
    shot("signed out")
    page.reload()
    expect(tid(page, "signin-name")).to_be_visible()
    assert facebook_requests == [], "the Facebook SDK must not load in local mode"

    # Every signed call the page made was verified; the only refusals were the ones provoked above.
    assert all(c.status in (200, 201, 204, 400) for c in cloud.calls if c.path == "/prod/ticket")


def test_failover_signs_for_the_new_region(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud)
    expect(tid(page, "region")).to_have_text("eu-west-1")

    # The primary reports itself unhealthy: the header and the banner say so.
    cloud.healthy, cloud.reason = False, "table read failed: ResourceNotFoundException"
    tid(page, "region-refresh").click()
    expect(tid(page, "region")).to_have_attribute("data-state", "unhealthy")
    expect(tid(page, "region")).to_contain_text("eu-west-1")
    expect(tid(page, "region")).to_contain_text("unhealthy")
    expect(tid(page, "banner")).to_contain_text("unhealthy")
    shot("primary unhealthy")

    # Failover: the secondary serves the API. The page still signs for eu-west-1; the API refuses (403), the page
    # asks /health, signs again for ap-southeast-1 and the ticket goes through.
    cloud.failover("ap-southeast-1")
    cloud.healthy, cloud.reason = True, ""
    create_ticket(page, "Created right after the failover to Singapore.")
    expect(tid(page, "ticket-item").first).to_contain_text("Created right after the failover to Singapore.")
    expect(tid(page, "region")).to_have_text("ap-southeast-1")
    expect(tid(page, "form-error")).to_be_hidden()
    expect(tid(page, "banner")).to_be_hidden()
    posts = cloud.calls_to("/prod/ticket", "POST")
    assert [(c.status, c.message.split(",")[0]) for c in posts] == [
        (403, "Credential should be scoped to a valid region"),
        (201, ""),
    ]
    assert posts[1].region == "ap-southeast-1"
    shot("served from the secondary")

    # Later calls sign for the new region straight away.
    before = len(cloud.calls_to("/prod/ticket", "GET"))
    page.get_by_role("button", name="Refresh", exact=True).click()
    expect(tid(page, "ticket-item")).to_have_count(1)
    assert [c.status for c in cloud.calls_to("/prod/ticket", "GET")[before:]] == [200]


def test_expired_credentials_are_renewed_and_the_call_retried(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud)
    expect(page.get_by_text("No tickets yet")).to_be_visible()  # the first list call is done
    cloud.add_ticket("Seen after the credentials were renewed.")
    cloud.expire_credentials()  # the API now answers 403 "The security token included in the request is expired"
    page.get_by_role("button", name="Refresh", exact=True).click()
    expect(tid(page, "ticket-item").first).to_contain_text("Seen after the credentials were renewed.")
    expect(tid(page, "banner")).to_be_hidden()
    statuses = [(c.status, c.message) for c in cloud.calls_to("/prod/ticket", "GET")]
    assert statuses[-2:] == [(403, "The security token included in the request is expired"), (200, "")]
    shot("renewed and retried")


def test_session_expires_when_credentials_cannot_be_renewed(page: Page, cloud: FakeCloud, shot):
    cloud.credential_lifetime = 3  # the page renews half-way through such short-lived credentials
    sign_in(page, cloud, "Bob")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    shot("signed in with short-lived credentials")
    renewals = len(cloud.calls_to("/cognito/", "POST"))
    for _ in range(60):  # a renewal is due 1.5 s after sign-in; allow a slow machine 6 s
        if len(cloud.calls_to("/cognito/", "POST")) > renewals:
            break
        page.wait_for_timeout(100)
    assert len(cloud.calls_to("/cognito/", "POST")) > renewals, "credentials were not renewed before expiry"

    cloud.refuse_logins = True  # e.g. the Facebook token behind the session expired
    expect(tid(page, "banner")).to_contain_text("session has expired", timeout=8000)
    expect(tid(page, "signin-name")).to_be_visible()
    expect(tid(page, "user-name")).to_be_hidden()
    assert storage(page)["session"] == "{}"
    shot("session expired")

    cloud.refuse_logins = False
    tid(page, "banner").get_by_role("button", name="Sign in again").click()
    tid(page, "signin-name").fill("Bob")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Bob")
    expect(tid(page, "banner")).to_be_hidden()
    shot("signed in again")


def test_user_content_is_shown_as_text(page: Page, cloud: FakeCloud, shot):
    cloud.add_ticket('<img src=x onerror="window.pwned=1">Broken <b>saddle</b>', assigned="<script>alert(1)</script>")
    sign_in(page, cloud, '<i>Mallory</i>')
    item = tid(page, "ticket-item").first
    expect(item).to_contain_text('<img src=x onerror="window.pwned=1">Broken <b>saddle</b>')
    expect(item).to_contain_text("Assigned to <script>alert(1)</script>")
    expect(tid(page, "user-name")).to_have_text("<i>Mallory</i>")
    assert page.locator("[data-testid=ticket-list] img, [data-testid=ticket-list] b, .user i").count() == 0
    assert page.evaluate("() => window.pwned") is None
    shot("markup shown as text")


def test_phone_layout(new_page, cloud: FakeCloud, shot):
    page = new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(cloud.site_url)
    expect(tid(page, "signin-name")).to_be_visible()
    shot("phone sign-in", page)
    cloud.add_ticket("The saddle was wet after the rain, please add covers to the unicorns.", priority="low")
    tid(page, "signin-name").fill("Carol Phone-User")
    tid(page, "signin-button").click()
    create_ticket(page, "My ride arrived twenty minutes late and the unicorn seemed tired.", "Ops", "high")
    expect(tid(page, "ticket-item")).to_have_count(2)
    shot("phone signed in", page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scrolling on a phone: {width}px wide"
    for test_id in ("region", "region-refresh", "signout-button", "ticket-submit"):
        expect(tid(page, test_id)).to_be_in_viewport()
    box = tid(page, "ticket-submit").bounding_box()
    assert box and box["height"] >= 40, "touch targets must be big enough"


def test_facebook_mode_uses_the_sdk(page: Page, cloud: FakeCloud, shot):
    """signIn "facebook": the SDK is loaded from connect.facebook.net (here a stand-in served by the test)."""
    cloud.sign_in = "facebook"
    sdk_requests = []
    fake_sdk = """
      window.FB = {
        init(options) { window.fbInit = options; },
        login(callback) { callback({status: "connected", authResponse: {accessToken: "local:Fiona", userID: "7"}}); },
        api(path, params, callback) { callback({name: "Fiona Facebook"}); },
        getLoginStatus(callback) {
          callback({status: "connected", authResponse: {accessToken: "local:Fiona", userID: "7"}});
        },
      };
      window.fbAsyncInit();
    """

    def serve_sdk(route):
        sdk_requests.append(route.request.url)
        route.fulfill(content_type="text/javascript", body=fake_sdk)

    page.route("https://connect.facebook.net/**", serve_sdk)
    page.goto(cloud.site_url)
    expect(tid(page, "signin-button")).to_have_text("Continue with Facebook")
    expect(tid(page, "signin-button")).to_be_enabled()
    expect(tid(page, "signin-name")).to_have_count(0)
    expect(page.get_by_text(LOCAL_NOTICE)).to_have_count(0)
    assert sdk_requests == ["https://connect.facebook.net/en_US/sdk.js"]
    assert page.evaluate("() => window.fbInit.appId") == cloud.facebook_app_id
    shot("facebook sign-in")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Fiona Facebook")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    shot("signed in with facebook")


def test_missing_configuration_is_explained(page: Page, cloud: FakeCloud, shot):
    cloud.serve_config = False
    page.goto(cloud.site_url)
    expect(tid(page, "banner")).to_contain_text("config.js is missing")
    expect(tid(page, "signin-button")).to_be_hidden()
    shot("no config")


def test_incomplete_configuration_is_explained(page: Page, cloud: FakeCloud):
    cloud.config_changes = {"identityPoolId": None, "signIn": "saml"}
    page.goto(cloud.site_url)
    expect(tid(page, "banner")).to_contain_text("incomplete: identityPoolId, signIn (one of: facebook, local)")


def test_config_example_documents_the_contract():
    text = (WEB_ROOT / "config.example.js").read_text(encoding="utf-8")
    keys = set(re.findall(r"^  (\w+):", text, flags=re.MULTILINE))
    assert {"region", "identityPoolId", "apiUrl", "facebookAppId", "cognitoEndpoint", "signIn"} <= keys
    index = (WEB_ROOT / "index.html").read_text(encoding="utf-8")
    assert index.index('src="config.js"') < index.index('src="js/app.js"')
    assert "connect.facebook.net" not in index, "the Facebook SDK loads only in facebook mode, from the app"
