"""Fakes for preflight's unit tests: an Aws whose clients answer from a table (a value, a list of pages for a
paginator, a callable, or an exception to raise), and a context around it. Every call is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

from wildrydes_mr import config as config_module


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Call")


class FakePaginator:
    def __init__(self, client: FakeClient, operation: str):
        self.client, self.operation = client, operation

    def paginate(self, **params: Any):
        pages = self.client.answer(self.operation, params)
        return pages if isinstance(pages, list) else [pages]


@dataclass
class FakeClient:
    service: str
    answers: dict[str, Any]
    calls: list[tuple[str, str, dict[str, Any]]]

    def answer(self, operation: str, params: dict[str, Any]) -> Any:
        self.calls.append((self.service, operation, params))
        if operation not in self.answers:
            raise AssertionError(f"unexpected call {self.service} {operation}")
        value = self.answers[operation]
        if callable(value) and not isinstance(value, Exception):
            value = value(**params)
        if isinstance(value, Exception):
            raise value
        return value

    def get_paginator(self, operation: str) -> FakePaginator:
        return FakePaginator(self, operation)

    def __getattr__(self, operation: str):
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **params: self.answer(operation, params)


@dataclass
class FakeAws:
    """answers: {service: {snake_case_operation: answer}}; `calls` lists (service, operation, params)."""

    answers: dict[str, dict[str, Any]]
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def client(self, service: str, region: str) -> FakeClient:
        return FakeClient(service, self.answers.get(service, {}), self.calls)

    def is_emulated(self, service: str, region: str) -> bool:
        return False


def fake_context(answers: dict[str, dict[str, Any]], config_text: str = "target: aws\n") -> SimpleNamespace:
    config = config_module.parse(config_text, "test.yaml")
    return SimpleNamespace(aws=FakeAws(answers), config=config, target=SimpleNamespace(is_local=False))
