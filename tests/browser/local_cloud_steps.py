"""Steps on the web app's page for the tests against the real local cloud (test_local_cloud_browser.py,
test_local_outage_browser.py): the stable test ids of web/README.md, the local sign-in, creating a ticket."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def tid(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def sign_in(page: Page, site_url: str, name: str) -> None:
    """Opens the site and signs in through the local stand-in for Facebook."""
    page.goto(site_url)
    tid(page, "signin-name").fill(name)
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text(name)


def create(page: Page, description: str, priority: str = "medium") -> None:
    """Fills the ticket form and submits it (the caller checks what the page then shows)."""
    tid(page, "ticket-description").fill(description)
    tid(page, "ticket-assigned").fill("Stable crew")
    tid(page, "ticket-priority").select_option(priority)
    tid(page, "ticket-status").select_option("open")
    tid(page, "ticket-submit").click()
