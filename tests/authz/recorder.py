"""Records every AWS call one `Aws` makes (botocore event hooks): service, operation, region, the caller's
parameters, the request as serialized (API Gateway's path) and, once it came back, the answer (the ids AWS gave a
new resource). Every attempt the tool makes is one record, whatever AWS (or the behaviour layer) answered."""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

RECORD_KEY = "authz_record"


@dataclass
class Record:
    service: str  # botocore's service name
    operation: str
    region: str
    params: dict[str, Any]
    prefix: str  # the IAM service prefix (the model's signing name)
    role: str  # who made it: "deployer" or "operator"
    path: str = ""  # the request's URL path, decoded (REST services)
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


class Recorder:
    """Hooks onto the event system of each `Aws` it watches; `records` holds every call, in order."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def watch(self, ctx: Any, role: str) -> Any:
        """Records ctx.aws's calls as made by `role`; returns ctx."""
        events = ctx.aws.events

        def params_built(params: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
            if model is None or context is None:
                return
            service = model.service_model
            record = Record(service.service_name, model.name, context.get("client_region") or "us-east-1",
                            dict(params or {}), service.signing_name or service.endpoint_prefix, role)
            context[RECORD_KEY] = record
            with self._lock:
                self.records.append(record)

        def before_call(params: Any = None, context: Any = None, **_: Any) -> None:
            record = (context or {}).get(RECORD_KEY)
            if record is not None and isinstance(params, dict):
                record.path = urllib.parse.unquote(str(params.get("url_path", "")).split("?", 1)[0])

        def after_call(parsed: Any = None, context: Any = None, **_: Any) -> None:
            record = (context or {}).get(RECORD_KEY)
            if record is not None and isinstance(parsed, dict):
                record.response = parsed

        events.register("before-parameter-build", params_built, unique_id=f"authz-params-{id(self)}")
        events.register_first("before-call", before_call, unique_id=f"authz-before-{id(self)}")
        events.register("after-call", after_call, unique_id=f"authz-after-{id(self)}")
        return ctx

    def by_role(self, role: str) -> list[Record]:
        return [record for record in self.records if record.role == role]
