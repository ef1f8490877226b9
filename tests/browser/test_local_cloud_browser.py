"""The web app in Debian's chromium against the real local cloud (not a fake): `wildrydes build-api` and
`build-ui` deploy it, the site is served from its bucket in moto, sign-in goes through the local Cognito stand-in,
and every ticket call is signed and verified by the local API gateway. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_helpers import wildrydes, wildrydes_json  # noqa: E402

PRIMARY = "eu-west-1"


@pytest.fixture
def deployed_site(tmp_path):
    wildrydes_json(tmp_path, "local", "up")
    try:
        wildrydes_json(tmp_path, "build-api")
        yield wildrydes_json(tmp_path, "build-ui")["site_url"]
    finally:
        wildrydes(tmp_path, "local", "down", check=False)


def tid(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def test_sign_in_create_list_region_error_and_reload(page: Page, deployed_site: str, shot):
    page.goto(deployed_site)
    expect(page.get_by_text("stands in for Facebook")).to_be_visible()
    expect(tid(page, "region")).to_have_text(PRIMARY)
    shot("sign-in page")

    tid(page, "signin-name").fill("Rita Rider")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Rita Rider")
    shot("signed in")

    description = "The unicorn's saddle squeaks on every landing."
    tid(page, "ticket-description").fill(description)
    tid(page, "ticket-assigned").fill("Stable crew")
    tid(page, "ticket-priority").select_option("medium")
    tid(page, "ticket-status").select_option("open")
    tid(page, "ticket-submit").click()
    expect(tid(page, "ticket-item").first).to_contain_text(description)
    expect(tid(page, "form-error")).to_be_hidden()
    shot("ticket created")

    expect(tid(page, "region")).to_have_text(PRIMARY)
    expect(tid(page, "region")).to_have_attribute("data-state", "healthy")
    shot("region in the header", full_page=False)

    tid(page, "ticket-description").fill("short")
    tid(page, "ticket-assigned").fill("Stable crew")
    tid(page, "ticket-submit").click()
    # The message comes from the API's 400 (the Lambda handler), not from the page.
    expect(tid(page, "form-error")).to_contain_text("description")
    expect(tid(page, "form-error")).to_contain_text("10-2000")
    expect(tid(page, "ticket-item")).to_have_count(1)
    shot("api refuses a short description")

    page.reload()
    expect(tid(page, "user-name")).to_have_text("Rita Rider")
    expect(tid(page, "ticket-item")).to_have_count(1)
    expect(tid(page, "ticket-item").first).to_contain_text(description)
    shot("reloaded, ticket still listed")
