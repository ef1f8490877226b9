"""Steps on the web app's page shared by the tests against the fake backend (test_web_app.py,
test_web_failover.py): the stable test ids of web/README.md, sign-in, creating a ticket, the page's storage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from browser_fake_cloud import FakeCloud
from playwright.sync_api import Page, expect

SESSION_KEY = "wildrydes.session"
FAKE_FACEBOOK_SDK = """
  window.FB = {
    init(options) { window.fbInit = options; },
    login(callback) { callback({status: "connected", authResponse: AUTH}); },
    api(path, params, callback) { callback({name: NAME}); },
    getLoginStatus(callback) { callback({status: "connected", authResponse: AUTH}); },
  };
  window.fbAsyncInit();
"""


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


def stored_session(page: Page) -> dict | None:
    return json.loads(page.evaluate(f"() => sessionStorage.getItem({SESSION_KEY!r})") or "null")


def refresh_list(page: Page) -> None:
    """Clicks Refresh and returns once the list's request has an answer (a list already on the page from before
    would satisfy a check of its items at once, while the refresh is still in flight)."""
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.split("?")[0].endswith("/tickets")):
        page.get_by_role("button", name="Refresh", exact=True).click()


def serve_fake_facebook_sdk(page: Page, *, token: str, user_id: str, name: str) -> list[str]:
    """connect.facebook.net's SDK replaced by a stand-in whose FB.login gives this login; the URLs it served."""
    auth = json.dumps({"accessToken": token, "userID": user_id})
    sdk = FAKE_FACEBOOK_SDK.replace("AUTH", auth).replace("NAME", json.dumps(name))
    requests: list[str] = []

    def serve(route) -> None:
        requests.append(route.request.url)
        route.fulfill(content_type="text/javascript", body=sdk)

    page.route("https://connect.facebook.net/**", serve)
    return requests


def wait_until(page: Page, condition: Callable[[], bool], timeout_s: float = 10, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)
