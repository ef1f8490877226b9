"""Who is calling: the credentials and account (STS GetCallerIdentity), and the IAM principal whose policies
decide what the caller may do (for SimulatePrincipalPolicy).

GetCallerIdentity needs no permission: "No permissions are required to perform this operation. If an
administrator attaches a policy to your identity that explicitly denies access to the sts:GetCallerIdentity
action, you can still perform this operation" (STS API reference, GetCallerIdentity). So a failure here is
about the credentials themselves.

An assumed-role session, arn:<partition>:sts::<account>:assumed-role/<role>/<session>, acts with its role's
policies; the role's ARN is arn:<partition>:iam::<account>:role/<path><role>, and the path (e.g. IAM Identity
Center's /aws-reserved/sso.amazonaws.com/...) is not in the session ARN, so it is read with iam:GetRole (IAM
user guide, "IAM identifiers": ARNs; "Roles terms and concepts": role sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

import botocore.exceptions

from wildrydes_mr.aws import Aws, ClientError, error_code, error_message
from wildrydes_mr.preflight.checklist import BAD_CREDENTIALS, Item, cannot_check, failed, passed

GROUP = "identity"
CREDENTIALS_FIX = "set AWS_PROFILE (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) to valid " \
                  "credentials of the account to deploy to"
USER, ASSUMED_ROLE, ROOT, FEDERATED_USER, OTHER = "user", "assumed-role", "root", "federated-user", "other"


@dataclass(frozen=True)
class Caller:
    """The caller as STS names it: account, ARN, partition, and what kind of principal it is."""

    account: str
    arn: str
    partition: str
    kind: str
    name: str  # the user's or the role's name ("" for root and unknown kinds)


def parse_caller(account: str, arn: str) -> Caller:
    """Reads GetCallerIdentity's ARN: arn:<partition>:iam::<account>:user/<path>/<name>,
    arn:<partition>:iam::<account>:root, arn:<partition>:sts::<account>:assumed-role/<role>/<session>,
    arn:<partition>:sts::<account>:federated-user/<name>."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return Caller(account, arn, "aws", OTHER, "")
    _, partition, service, _, _, resource = parts
    if service == "iam" and resource == "root":
        return Caller(account, arn, partition, ROOT, "")
    if service == "iam" and resource.startswith("user/"):
        return Caller(account, arn, partition, USER, resource.rsplit("/", 1)[-1])
    if service == "sts" and resource.startswith("assumed-role/") and resource.count("/") >= 2:
        return Caller(account, arn, partition, ASSUMED_ROLE, resource.split("/")[1])
    if service == "sts" and resource.startswith("federated-user/"):
        return Caller(account, arn, partition, FEDERATED_USER, resource.split("/", 1)[1])
    return Caller(account, arn, partition, OTHER, "")


def check_credentials(aws: Aws, region: str) -> tuple[Item, Caller | None]:
    """The credentials item, and the caller when the credentials work."""
    name = "credentials and account"
    try:
        identity = aws.client("sts", region).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        return failed(GROUP, name, "no AWS credentials found", CREDENTIALS_FIX), None
    except ClientError as exc:
        if error_code(exc) in BAD_CREDENTIALS:
            return failed(GROUP, name, f"STS refused the credentials: {error_message(exc)}", CREDENTIALS_FIX), None
        return cannot_check(GROUP, name, f"STS GetCallerIdentity failed: {error_message(exc)}"), None
    except botocore.exceptions.BotoCoreError as exc:
        return cannot_check(GROUP, name, f"STS could not be reached: {exc}"), None
    caller = parse_caller(identity["Account"], identity["Arn"])
    return passed(GROUP, name, f"account {caller.account} as {caller.arn}", account=caller.account,
                  arn=caller.arn, principal_kind=caller.kind), caller


class PrincipalUnknown(Exception):
    """The caller's IAM principal cannot be simulated; the message says why, `fix` what would help."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix


def principal_arn(aws: Aws, caller: Caller, region: str) -> str:
    """The ARN of the IAM user or role whose policies the caller acts with (what SimulatePrincipalPolicy takes as
    PolicySourceArn). Raises PrincipalUnknown for the root user, federated users and anything else."""
    if caller.kind == USER:
        return caller.arn
    if caller.kind == ASSUMED_ROLE:
        try:
            return aws.client("iam", region).get_role(RoleName=caller.name)["Role"]["Arn"]
        except ClientError as exc:
            raise PrincipalUnknown(f"the role {caller.name} of the session {caller.arn} cannot be read "
                                   f"({error_message(exc)})", f"allow iam:GetRole on the role {caller.name}") from None
    if caller.kind == ROOT:
        # SimulatePrincipalPolicy takes a user, group or role; the root user has no IAM policies to simulate (it
        # may do everything its account allows), and AWS advises against using it for everyday work.
        raise PrincipalUnknown("the caller is the account's root user, which has no IAM policies to simulate",
                               "run the tool as an IAM role or user with the policy `wildrydes policy` prints")
    if caller.kind == FEDERATED_USER:
        raise PrincipalUnknown("a federated user's permissions are its session policy intersected with the IAM "
                               "user's that made it, which SimulatePrincipalPolicy cannot take",
                               "run the tool as an IAM role or user")
    raise PrincipalUnknown(f"the caller {caller.arn} is neither an IAM user nor an assumed role")
