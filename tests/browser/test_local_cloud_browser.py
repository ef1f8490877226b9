"""The web app in Debian's chromium against the real local cloud (not a fake): `wildrydes build-api` and
`build-ui` deploy it once for the module, the site is served from its bucket in moto, sign-in goes through the
local Cognito stand-in, and every ticket call is signed, verified and authorised by the local API gateway.

Besides the happy path: credentials the gateway refuses as expired are renewed and the call retried; a stored
login the stand-in no longer accepts ends in the "session expired" banner; an identity role whose policy allows
only GET makes the page's create fail with API Gateway's 403, until `build-ui` repairs the drift.
Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_helpers import local_deployment, moto_client, wildrydes_json  # noqa: E402
from local_cloud_steps import create, sign_in, tid  # noqa: E402

from wildrydes_mr.local import facebook  # noqa: E402

PRIMARY = "eu-west-1"
ROLE = "wildrydes-web-identity"  # build_ui.identity_role_name: its inline policy has the role's name
CREDENTIAL_LIFETIME_S = 8  # the stand-in's credentials live 8 s here (Cognito's: an hour)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    config = f"local: {{credential_lifetime: {CREDENTIAL_LIFETIME_S}}}\n"
    with local_deployment(tmp_path_factory.mktemp("browser-local"), config, "build-api", "build-ui") as env:
        yield {**env, "site_url": env["build-ui"]["site_url"], "aws_endpoint": env["started"]["aws_endpoint"]}


def ticket_answers(page: Page) -> list[tuple[str, int, str]]:
    """(method, status, message) of every answer to /owners/<owner>/tickets the page receives, as they come."""
    answers: list[tuple[str, int, str]] = []

    def record(response) -> None:
        if response.url.split("?")[0].endswith("/tickets") and response.request.method in ("GET", "POST"):
            try:
                message = json.loads(response.body() or b"{}").get("message", "")
            except ValueError:
                message = ""
            answers.append((response.request.method, response.status, message))
    page.on("response", record)
    return answers


def wait_for(page: Page, condition, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def test_sign_in_create_list_region_error_and_reload(page: Page, deployed, shot):
    page.goto(deployed["site_url"])
    expect(page.get_by_text("stands in for Facebook")).to_be_visible()
    expect(tid(page, "region")).to_have_text(PRIMARY)
    shot("sign-in page")

    tid(page, "signin-name").fill("Rita Rider")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Rita Rider")
    shot("signed in")
    before = tid(page, "ticket-item").count()

    description = "The unicorn's saddle squeaks on every landing."
    create(page, description)
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
    expect(tid(page, "ticket-item")).to_have_count(before + 1)
    shot("api refuses a short description")

    page.reload()
    expect(tid(page, "user-name")).to_have_text("Rita Rider")
    expect(tid(page, "ticket-item")).to_have_count(before + 1)
    expect(tid(page, "ticket-item").first).to_contain_text(description)
    shot("reloaded, ticket still listed")


def test_credentials_the_gateway_refuses_as_expired_are_renewed_and_the_call_retried(page: Page, deployed, shot):
    answers = ticket_answers(page)
    page.clock.install()
    sign_in(page, deployed["site_url"], "Clara Clock")
    wait_for(page, lambda: ("GET", 200, "") in answers)  # the first list call is done
    # The page's clock stops two minutes early: it believes its credentials fresh (and its renewal timer never
    # fires), while the stand-in's real clock runs them out; the signature's date stays within SigV4's 5 minutes.
    page.clock.pause_at(dt.datetime.now() + dt.timedelta(seconds=1))
    page.clock.set_system_time(dt.datetime.now() - dt.timedelta(minutes=2))
    time.sleep(CREDENTIAL_LIFETIME_S + 1)
    seen = len(answers)
    page.get_by_role("button", name="Refresh", exact=True).click()
    wait_for(page, lambda: len(answers) >= seen + 2)
    assert answers[seen:seen + 2] == [("GET", 403, "The security token included in the request is expired"),
                                      ("GET", 200, "")], answers
    expect(tid(page, "banner")).to_be_hidden()
    expect(tid(page, "user-name")).to_have_text("Clara Clock")
    shot("renewed after the gateway refused expired credentials")


def test_a_login_the_stand_in_refuses_ends_the_session(page: Page, deployed, shot):
    answers = ticket_answers(page)
    sign_in(page, deployed["site_url"], "Bob Banner")
    # The page saves the session again once its claim of older tickets is done, just before it lists them:
    # tamper with it only after that, or the page's own save puts the real login back.
    wait_for(page, lambda: ("GET", 200, "") in answers)
    shot("signed in")
    # The stored login no longer maps to the stored identity (as when the Facebook login behind a session is
    # revoked): on reload the renewal is refused (NotAuthorizedException) and the session ends.
    page.evaluate("""() => {
        const stored = JSON.parse(sessionStorage.getItem("wildrydes.session"));
        stored.token = "local:Someone Else";
        sessionStorage.setItem("wildrydes.session", JSON.stringify(stored));
    }""")
    page.reload()
    expect(tid(page, "banner")).to_contain_text("session has expired")
    expect(tid(page, "signin-name")).to_be_visible()
    expect(tid(page, "user-name")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('wildrydes.session')") is None
    shot("session expired")

    tid(page, "banner").get_by_role("button", name="Sign in again").click()
    tid(page, "signin-name").fill("Bob Banner")
    tid(page, "signin-button").click()
    expect(tid(page, "user-name")).to_have_text("Bob Banner")
    expect(tid(page, "banner")).to_be_hidden()
    shot("signed in again")


def test_an_identity_role_allowing_only_get_makes_create_fail_with_403(page: Page, deployed, shot):
    iam = moto_client(deployed["aws_endpoint"], "iam")
    right = iam.get_role_policy(RoleName=ROLE, PolicyName=ROLE)["PolicyDocument"]
    wrong = json.loads(json.dumps(right))
    for statement in wrong["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        statement["Resource"] = [arn for arn in resources if "/GET/" in arn]
    assert all(statement["Resource"] for statement in wrong["Statement"]), wrong
    iam.put_role_policy(RoleName=ROLE, PolicyName=ROLE, PolicyDocument=json.dumps(wrong))
    time.sleep(1.5)  # the gateway caches what it reads from IAM for a second

    answers = ticket_answers(page)
    sign_in(page, deployed["site_url"], "Gina Get")
    expect(page.get_by_role("button", name="Refresh", exact=True)).to_be_visible()
    create(page, "Refused: the role may only list tickets.")
    expect(tid(page, "form-error")).to_contain_text("is not authorized to perform: execute-api:Invoke")
    expect(tid(page, "form-error")).to_contain_text(f"/POST/owners/{facebook.user_id('Gina Get')}/tickets")
    expect(tid(page, "user-name")).to_have_text("Gina Get")  # a 403 for policy is not a session problem
    posts = [answer for answer in answers if answer[0] == "POST"]
    assert posts and all(status == 403 for _, status, _ in posts), answers
    # Listing is allowed (its answer may come after the create's refusal).
    wait_for(page, lambda: any(method == "GET" and status == 200 for method, status, _ in answers))
    shot("create refused by the role's policy")

    # build-ui finds the drift and writes the policy back; the same page can create again.
    wildrydes_json(deployed["workdir"], "build-ui", config=deployed["config"])
    assert iam.get_role_policy(RoleName=ROLE, PolicyName=ROLE)["PolicyDocument"] == right
    time.sleep(1.5)
    create(page, "Accepted once build-ui repaired the role.")
    expect(tid(page, "ticket-item").first).to_contain_text("Accepted once build-ui repaired the role.")
    expect(tid(page, "form-error")).to_be_hidden()
    shot("created after the repair")
