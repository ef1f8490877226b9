"""The errors of the local Cognito Identity stand-in, as Cognito answers them (JSON 1.1 `__type` and message)."""

from __future__ import annotations

__all__ = ["CognitoError"]


class CognitoError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_type = error_type
        self.status = status
