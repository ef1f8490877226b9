"""The one exception family of wildrydes-mr.

Every failure a user can meet is a `WildrydesError` with a one-line message, an optional hint and an exit code;
`cli.main` turns it into output in exactly one place (tracebacks only with --debug).
"""

from __future__ import annotations


class WildrydesError(Exception):
    """A failure with a one-line message for the user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(WildrydesError):
    """The config file is missing, unreadable or invalid. Raised before any AWS call."""

    exit_code = 2


class UsageError(WildrydesError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class StateError(WildrydesError):
    """The state file is unreadable, from another deployment, or of an unknown schema."""

    exit_code = 3


class StateLockedError(WildrydesError):
    """Another wildrydes command holds the lock on the same state file."""

    exit_code = 4


class AwsError(WildrydesError):
    """An AWS call failed permanently; names the resource, the region and AWS's error."""

    def __init__(self, resource: str, region: str, aws_message: str, hint: str | None = None):
        super().__init__(f"{resource} in {region}: {aws_message}", hint)
        self.resource = resource
        self.region = region


class LocalCloudError(WildrydesError):
    """The local cloud could not be started, reached or stopped."""


class Aborted(WildrydesError):
    """The user declined a confirmation."""

    exit_code = 1
