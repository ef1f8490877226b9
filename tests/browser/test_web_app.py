"""The web app in chromium against a fake backend (browser_fake_cloud.py): site and APIs on separate origins,
Cognito emulated per region, every ticket call's SigV4 signature recomputed with botocore and its owner path
checked like the identity role's IAM policy. The page's own failover between regions: test_web_failover.py.

Screenshots of every step: artifacts/screenshots/<test name>/NN-step.png.
"""

from __future__ import annotations

import re

from browser_fake_cloud import PRIMARY, SECONDARY, FakeCloud, user_id
from browser_support import PHONE, WEB_ROOT
from browser_web_steps import (
    create_ticket,
    refresh_list,
    serve_fake_facebook_sdk,
    sign_in,
    storage,
    stored_session,
    tid,
    wait_until,
)
from playwright.sync_api import Page, expect

LOCAL_NOTICE = "Local sign-in — stands in for Facebook on the local cloud"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NOT_AUTHORIZED = "is not authorized to perform: execute-api:Invoke"


def test_ticketing_journey(page: Page, cloud: FakeCloud, shot):
    # Sign-in page: the local stand-in for Facebook, clearly labelled; the header shows the serving region.
    facebook_requests = []
    page.on("request", lambda r: "facebook.net" in r.url and facebook_requests.append(r.url))
    page.goto(cloud.site_url)
    expect(page.get_by_text(LOCAL_NOTICE)).to_be_visible()
    expect(tid(page, "region")).to_have_text(PRIMARY)
    expect(tid(page, "banner")).to_be_hidden()
    expect(tid(page, "signout-button")).to_be_hidden()
    shot("sign-in page")

    # Sign in: the Facebook stand-in's login, then the primary's Cognito; the list loads (signed GET), empty.
    tid(page, "signin-name").fill("Alice Rider")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Alice Rider")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    shot("signed in, no tickets")
    alice = user_id("Alice Rider")
    assert [c.status for c in cloud.calls_to("facebook")] == [200]
    assert [(c.target, c.region) for c in cloud.calls_to("cognito", "POST")] == [
        ("GetId", PRIMARY), ("GetCredentialsForIdentity", PRIMARY)]
    kept = stored_session(page)
    assert kept["token"] == "local:Alice Rider" and kept["owner"] == alice  # a reload stays signed in
    assert kept["identityId"] == cloud.identity_id(PRIMARY, "Alice Rider")
    assert storage(page)["local"] == "{}"
    assert not any(secret in storage(page)["session"] for secret in cloud.secrets_issued()), "credentials in storage"
    assert [c.path for c in cloud.calls_to("tickets", "GET")] == [f"/prod/owners/{alice}/tickets"]

    # Create a ticket: it appears at the top of the list; the API stored it for this owner with the page's id.
    create_ticket(page, "My unicorn refused to fly over the river.", "Support team", "high", "open")
    first = tid(page, "ticket-item").first
    expect(first).to_contain_text("My unicorn refused to fly over the river.")
    expect(first).to_contain_text("Support team")
    expect(first).to_contain_text("high")
    expect(first).to_contain_text("by you")
    expect(tid(page, "form-error")).to_be_hidden()
    expect(tid(page, "ticket-description")).to_have_value("")
    shot("ticket created")
    assert [t["owner"] for t in cloud.tickets] == [alice]
    created = cloud.calls_to("tickets", "POST")
    assert [(c.status, c.via, c.signed_region) for c in created] == [(201, "failover-name", PRIMARY)]
    assert UUID.match(created[0].body["id"]) and cloud.tickets[0]["id"] == created[0].body["id"]
    assert cloud.tickets[0]["createdBy"] == cloud.identity_id(PRIMARY, "Alice Rider")

    # The region serving the API is in the header.
    expect(tid(page, "region")).to_have_text(PRIMARY)
    expect(tid(page, "region")).to_have_attribute("data-state", "healthy")
    expect(tid(page, "region")).to_have_attribute("data-down", "")
    shot("region in the header", full_page=False)

    # Too short a description: not blocked in the page; the API's 400 message is shown in the form.
    create_ticket(page, "abc")
    message = "Field 'description' must be 10-2000 characters (after trimming), got 3"
    expect(tid(page, "form-error")).to_have_text(message)
    expect(tid(page, "ticket-description")).to_have_attribute("aria-invalid", "true")
    assert [c.status for c in cloud.calls_to("tickets", "POST")] == [201, 400]
    assert len(cloud.tickets) == 1
    shot("api refuses a short description")

    # Nothing typed at all: caught in the page, nothing sent.
    tid(page, "ticket-description").fill("   ")
    tid(page, "ticket-assigned").fill("")
    tid(page, "ticket-submit").click()
    expect(page.locator("#description-error")).to_have_text("Describe what went wrong.")
    expect(page.locator("#assigned-error")).to_have_text("Say who should handle this ticket.")
    assert len(cloud.calls_to("tickets", "POST")) == 2
    shot("missing values caught in the page")

    # A reload stays signed in (login token, identity id and owner in sessionStorage) and lists the ticket again.
    page.reload()
    expect(tid(page, "user-name")).to_have_text("Alice Rider")
    expect(tid(page, "ticket-item")).to_have_count(1)
    expect(tid(page, "ticket-item").first).to_contain_text("My unicorn refused to fly over the river.")
    shot("reloaded, still signed in")

    # More tickets than a page (10): "Load more" follows the `next` token until there is none.
    for number in range(1, 13):
        cloud.add_ticket(f"Seeded ticket number {number:02d}, newest last.", owner=alice)
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
    listed = cloud.calls_to("tickets", "GET")
    assert all(c.status == 200 for c in listed) and len(listed) >= 4

    # Both regions go down: the banner says so, the region is unreachable, a ticket is not lost.
    cloud.take_down(PRIMARY)
    cloud.take_down(SECONDARY)
    tid(page, "region-refresh").click()
    expect(tid(page, "banner")).to_be_visible()
    expect(tid(page, "banner")).to_contain_text("Can't reach the Wild Rydes API")
    expect(tid(page, "region")).to_have_text("unreachable")
    create_ticket(page, "Sent while the API is down, must stay in the form.")
    expect(tid(page, "form-error")).to_contain_text("can't be reached")
    expect(tid(page, "ticket-description")).to_have_value("Sent while the API is down, must stay in the form.")
    shot("api unreachable")

    # Back up: "Try again" clears the banner and the region comes back.
    cloud.bring_up(PRIMARY)
    cloud.bring_up(SECONDARY)
    tid(page, "banner").get_by_role("button", name="Try again").click()
    expect(tid(page, "banner")).to_be_hidden()
    expect(tid(page, "region")).to_have_text(PRIMARY)
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
    assert all(c.status in (200, 201, 204, 400) for c in cloud.calls if c.route == "tickets" and c.status)


def test_a_user_sees_only_their_own_tickets(new_page, cloud: FakeCloud, shot):
    alice_page, bob_page = new_page(), new_page()
    sign_in(alice_page, cloud, "Alice Rider")
    for description in ("Alice's first ticket: the saddle squeaks.", "Alice's second ticket: late pick-up."):
        create_ticket(alice_page, description)
        expect(tid(alice_page, "ticket-item").first).to_contain_text(description)
    sign_in(bob_page, cloud, "Bob Rider")
    expect(bob_page.get_by_text("No tickets yet")).to_be_visible()
    create_ticket(bob_page, "Bob's only ticket: the unicorn sneezed.")
    expect(tid(bob_page, "ticket-item")).to_have_count(1)
    shot("bob sees only his ticket", bob_page)
    refresh_list(alice_page)
    expect(tid(alice_page, "ticket-item")).to_have_count(2)
    expect(tid(alice_page, "ticket-list")).not_to_contain_text("Bob")
    shot("alice sees only hers", alice_page)
    assert {t["owner"] for t in cloud.tickets} == {user_id("Alice Rider"), user_id("Bob Rider")}

    # Bob's tab names Alice's owner path: his correctly signed request is refused by the gateway (IAM), and the
    # page shows the API's message; nothing of Alice's reaches it.
    bob_page.evaluate("""owner => {
        const stored = JSON.parse(sessionStorage.getItem("wildrydes.session"));
        stored.owner = owner;
        sessionStorage.setItem("wildrydes.session", JSON.stringify(stored));
    }""", user_id("Alice Rider"))
    bob_page.reload()
    expect(bob_page.locator(".list-status")).to_contain_text(NOT_AUTHORIZED)
    expect(bob_page.locator(".list-status")).to_contain_text(f"/GET/owners/{user_id('Alice Rider')}/tickets")
    expect(tid(bob_page, "ticket-item")).to_have_count(0)
    refused = [c for c in cloud.calls_to("tickets", "GET") if c.status == 403]
    assert refused and all(c.identity_id == cloud.identity_id(PRIMARY, "Bob Rider") for c in refused)
    shot("another owner's path is refused", bob_page)


def test_old_tickets_are_claimed_once_per_session(page: Page, cloud: FakeCloud, shot):
    # Tickets from before owners existed belong to an identity id ("legacy:<id>"), here Lena's in the primary.
    lena = cloud.identity_id(PRIMARY, "Lena Legacy")
    for description in ("Legacy ticket one, from before owners.", "Legacy ticket two, from before owners."):
        cloud.add_ticket(description, owner=f"legacy:{lena}", created_by=lena)
    cloud.add_ticket("Someone else's legacy ticket.", owner=f"legacy:{PRIMARY}:someone-else")
    sign_in(page, cloud, "Lena Legacy")
    expect(tid(page, "ticket-item")).to_have_count(2)
    expect(tid(page, "ticket-list")).not_to_contain_text("Someone else")
    claims = cloud.calls_to("claims", "POST")
    assert [(c.status, c.path) for c in claims] == [(200, f"/prod/owners/{user_id('Lena Legacy')}/claims")]
    assert claims[0].identity_id == lena
    shot("legacy tickets claimed")
    page.reload()
    expect(tid(page, "ticket-item")).to_have_count(2)
    assert len(cloud.calls_to("claims", "POST")) == 1, "claimed again in the same session"


def test_an_api_without_the_claims_route_is_no_problem(page: Page, cloud: FakeCloud):
    cloud.claims_route = False  # an API from before claims: API Gateway's 403 "Missing Authentication Token"
    sign_in(page, cloud, "Oscar Older")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    expect(tid(page, "banner")).to_be_hidden()
    assert cloud.calls_to("claims", "POST") and all(c.status == 403 for c in cloud.calls_to("claims", "POST"))
    create_ticket(page, "Works without the claims route.")
    expect(tid(page, "ticket-item").first).to_contain_text("Works without the claims route.")


def test_dns_failover_signs_for_the_new_region(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud)
    expect(tid(page, "region")).to_have_text(PRIMARY)

    # The primary reports itself unhealthy while the secondary is not asked yet (no failover before replicate).
    cloud.replicated = False
    page.reload()
    expect(tid(page, "user-name")).to_have_text("Alice Rider")
    cloud.primary.healthy, cloud.primary.reason = False, "table read failed: ResourceNotFoundException"
    tid(page, "region-refresh").click()
    expect(tid(page, "region")).to_have_attribute("data-state", "unhealthy")
    expect(tid(page, "region")).to_contain_text(PRIMARY)
    expect(tid(page, "region")).to_contain_text("unhealthy")
    expect(tid(page, "banner")).to_contain_text("unhealthy")
    shot("primary unhealthy")

    # Replicated; DNS points the failover name at the secondary, which the page does not know yet: it signs for
    # eu-west-1, the API refuses (403), the page asks /health, signs again for ap-southeast-1 and it goes through.
    cloud.replicated, cloud.primary.healthy = True, True
    lists_before = len(cloud.calls_to("tickets", "GET"))
    page.reload()
    expect(tid(page, "region")).to_have_text(PRIMARY)
    # The reloaded page lists the tickets through the failover name: let that answer come first, or its own 403
    # and /health would teach the page the new region before the form's POST does.
    wait_until(page, lambda: len(cloud.calls_to("tickets", "GET")) > lists_before, what="the reloaded page's list")
    cloud.point_failover_name(SECONDARY)
    create_ticket(page, "Created right after the failover to Singapore.")
    expect(tid(page, "ticket-item").first).to_contain_text("Created right after the failover to Singapore.")
    expect(tid(page, "region")).to_have_text(SECONDARY)
    expect(tid(page, "form-error")).to_be_hidden()
    expect(tid(page, "banner")).to_be_hidden()
    posts = cloud.calls_to("tickets", "POST")
    assert [(c.status, c.message.split(",")[0]) for c in posts] == [
        (403, "Credential should be scoped to a valid region"),
        (201, ""),
    ]
    assert posts[1].region == SECONDARY and posts[1].via == "failover-name"
    shot("served from the secondary")

    # Later calls sign for the new region straight away.
    before = len(cloud.calls_to("tickets", "GET"))
    refresh_list(page)
    expect(tid(page, "ticket-item")).to_have_count(1)
    assert [c.status for c in cloud.calls_to("tickets", "GET")[before:]] == [200]


def test_expired_credentials_are_renewed_and_the_call_retried(page: Page, cloud: FakeCloud, shot):
    sign_in(page, cloud)
    expect(page.get_by_text("No tickets yet")).to_be_visible()  # the first list call is done
    cloud.add_ticket("Seen after the credentials were renewed.", owner=user_id("Alice Rider"))
    cloud.expire_credentials()  # the API now answers 403 "The security token included in the request is expired"
    refresh_list(page)
    expect(tid(page, "ticket-item").first).to_contain_text("Seen after the credentials were renewed.")
    expect(tid(page, "banner")).to_be_hidden()
    statuses = [(c.status, c.message) for c in cloud.calls_to("tickets", "GET")]
    assert statuses[-2:] == [(403, "The security token included in the request is expired"), (200, "")]
    shot("renewed and retried")


def test_session_expires_when_credentials_cannot_be_renewed(page: Page, cloud: FakeCloud, shot):
    cloud.credential_lifetime = 3  # the page renews half-way through such short-lived credentials
    sign_in(page, cloud, "Bob")
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    shot("signed in with short-lived credentials")
    renewals = len(cloud.calls_to("cognito", "POST"))
    wait_until(page, lambda: len(cloud.calls_to("cognito", "POST")) > renewals, 6, "a renewal before expiry")

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
    # Facebook mode: the name comes from the profile (FB.api("/me")), whatever it holds.
    cloud.sign_in = "facebook"
    serve_fake_facebook_sdk(page, token="local:Mallory", user_id=user_id("Mallory"), name="<i>Mallory</i>")
    cloud.add_ticket('<img src=x onerror="window.pwned=1">Broken <b>saddle</b>', owner=user_id("Mallory"),
                     assigned="<script>alert(1)</script>")
    page.goto(cloud.site_url)
    tid(page, "signin-button").click()
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
    cloud.add_ticket("The saddle was wet after the rain, please add covers to the unicorns.",
                     owner=user_id("Carol Phone-User"), priority="low")
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


def test_facebook_mode_uses_the_sdk_and_its_user_id(page: Page, cloud: FakeCloud, shot):
    """signIn "facebook": the SDK is loaded from connect.facebook.net (here a stand-in served by the test); the
    owner is FB.login's authResponse.userID."""
    cloud.sign_in = "facebook"
    fiona = user_id("Fiona")
    sdk_requests = serve_fake_facebook_sdk(page, token="local:Fiona", user_id=fiona, name="Fiona Facebook")
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
    assert stored_session(page)["owner"] == fiona
    assert cloud.calls_to("facebook") == [], "the local stand-in is not used in facebook mode"
    assert [c.path for c in cloud.calls_to("tickets", "GET")] == [f"/prod/owners/{fiona}/tickets"]
    shot("signed in with facebook")


def test_a_config_from_before_the_regional_keys_still_works(page: Page, cloud: FakeCloud, shot):
    """A deployment's config.js from before issue 12: region, identityPoolId, cognitoEndpoint, one apiUrl."""
    cloud.sign_in = "facebook"
    cloud.config_changes = {"regions": None, "identityPools": None, "cognitoEndpoints": None, "apiUrls": None,
                            "facebookStandIn": None, "apiUrl": cloud.primary.api_url}
    serve_fake_facebook_sdk(page, token="local:Olga", user_id=user_id("Olga"), name="Olga Old-Config")
    page.goto(cloud.site_url)
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Olga Old-Config")
    create_ticket(page, "Created with a single-region config.js.")
    expect(tid(page, "ticket-item").first).to_contain_text("Created with a single-region config.js.")
    assert {c.region for c in cloud.calls_to("cognito")} == {PRIMARY}
    assert [(c.status, c.region, c.via) for c in cloud.calls_to("tickets", "POST")] == [(201, PRIMARY, "regional")]
    shot("old config.js")


def test_missing_configuration_is_explained(page: Page, cloud: FakeCloud, shot):
    cloud.serve_config = False
    page.goto(cloud.site_url)
    expect(tid(page, "banner")).to_contain_text("config.js is missing")
    expect(tid(page, "signin-button")).to_be_hidden()
    shot("no config")


def test_incomplete_configuration_is_explained(page: Page, cloud: FakeCloud):
    cloud.config_changes = {"identityPools": {SECONDARY: cloud.secondary.pool_id}, "identityPoolId": None,
                            "apiUrls": {PRIMARY: cloud.primary.api_url}, "signIn": "saml"}
    page.goto(cloud.site_url)
    expect(tid(page, "banner")).to_contain_text(
        f'incomplete: identityPools["{PRIMARY}"], signIn (one of: facebook, local), apiUrls["{SECONDARY}"].')


def test_config_example_documents_the_contract():
    text = (WEB_ROOT / "config.example.js").read_text(encoding="utf-8")
    keys = set(re.findall(r"^  (?://\s*)?(\w+):", text, flags=re.MULTILINE))
    assert {"region", "regions", "identityPools", "cognitoEndpoints", "apiUrl", "apiUrls", "facebookAppId",
            "facebookStandIn", "signIn", "identityPoolId", "cognitoEndpoint", "pageSize",
            "facebookApiVersion"} <= keys
    index = (WEB_ROOT / "index.html").read_text(encoding="utf-8")
    assert index.index('src="config.js"') < index.index('src="js/app.js"')
    assert "connect.facebook.net" not in index, "the Facebook SDK loads only in facebook mode, from the app"
