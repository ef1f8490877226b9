"""The game day re-signs for the other region only when API Gateway says the signature is scoped to the wrong
region: any other 403 (a policy that denies, an expired token) is an answer to record, not to retry."""

from __future__ import annotations

import pytest

from wildrydes_mr.apiclient import ApiResponse
from wildrydes_mr.gameday import is_wrong_region


@pytest.mark.parametrize(("status", "body", "expected"), [
    (403, {"message": "Credential should be scoped to a valid region, not 'eu-west-1'. "}, True),
    (403, {"Message": "Credential should be scoped to a valid region. "}, True),
    (403, "Credential should be scoped to a valid region, not 'eu-west-1'.", True),
    (403, {"Message": "User: arn:aws:iam::123456789012:user/x is not authorized to perform: execute-api:Invoke"},
     False),
    (403, {"message": "The security token included in the request is expired"}, False),
    (403, None, False),
    (500, {"message": "Credential should be scoped to a valid region"}, False),
    (201, {"id": "x"}, False),
])
def test_only_the_credential_scope_refusal_is_a_wrong_region(status, body, expected):
    assert is_wrong_region(ApiResponse(status, body, {})) is expected
