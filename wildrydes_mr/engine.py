"""The converge engine: desired resources → (find → create | update | nothing) → state, and teardown.

Every workflow builds a list of `Resource`s in dependency order and hands it to `converge`. Each resource is
found live; the action follows from what is found; with --dry-run the action is only reported. A resource is
recorded in the state file the moment it exists. `teardown` walks recorded resources newest first and deletes
each through the explicit `DELETERS` table; NotFound counts as done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from wildrydes_mr.errors import AwsError, WildrydesError

if TYPE_CHECKING:
    from wildrydes_mr.aws import Aws
    from wildrydes_mr.config import Config
    from wildrydes_mr.state import State
    from wildrydes_mr.targets import Target

CREATE, UPDATE, NOTHING, DELETE = "create", "update", "nothing", "delete"
# What a dry run puts where an id or ARN will only exist once something is created. A resource that mentions
# it cannot exist yet, and is not looked up: AWS would refuse the lookup (an identity pool id "(new)" fails its
# pattern), so a dry run plans it as a create without asking.
PLACEHOLDER = "(known after create)"


@dataclass(frozen=True)
class Action:
    """One line of a plan: what happens (or would happen) to one resource in one region."""

    verb: str
    kind: str
    region: str
    name: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"action": self.verb, "kind": self.kind, "region": self.region, "name": self.name,
                "detail": self.detail}


class Reporter(Protocol):
    def progress(self, message: str) -> None: ...
    def action(self, action: Action, dry_run: bool) -> None: ...
    def warn(self, message: str) -> None: ...


@dataclass
class Context:
    """What a workflow run needs: AWS access, config, state, the target's data-plane view, and output."""

    aws: Aws
    config: Config
    state: State
    target: Target
    module: str
    dry_run: bool
    reporter: Reporter
    actions: list[Action] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def record(self, resource: Resource, **attributes: Any) -> None:
        """Saves `resource` to the state file now (called by `create` the moment the resource exists)."""
        self.state.put(resource.kind, resource.region, resource.name, self.module, **attributes)

    def progress(self, message: str) -> None:
        self.reporter.progress(message)

    def for_module(self, module: str) -> Context:
        """The same run, recording what follows under another workshop module."""
        return Context(self.aws, self.config, self.state, self.target, module, self.dry_run, self.reporter,
                       self.actions, self.outputs)


class Resource:
    """Base class for one desired resource. Subclasses set `kind` and implement find/changes/create/update."""

    kind = "resource"

    def __init__(self, region: str, name: str):
        self.region = region
        self.name = name

    def find(self, ctx: Context) -> Any | None:
        """The live resource, or None when it does not exist. Never raises for NotFound."""
        raise NotImplementedError

    def changes(self, ctx: Context, live: Any) -> list[str]:
        """What differs between `live` and the desired resource; empty means nothing to do."""
        return []

    def create(self, ctx: Context) -> dict[str, Any]:
        """Creates the resource, calling ctx.record as soon as it exists; returns its state attributes."""
        raise NotImplementedError

    def update(self, ctx: Context, live: Any, changes: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def attributes(self, ctx: Context, live: Any) -> dict[str, Any]:
        """State attributes of an existing resource (ids, ARNs; never secrets)."""
        return {}

    def owner_tags(self, ctx: Context, live: Any) -> dict[str, str] | None:
        """The live resource's tags, for kinds found by name that carry the deployment tag from birth; None for
        kinds found by tag already (or without tags). A found resource without our tag is never adopted."""
        return None


def _aws_failure(resource: Resource, exc: Exception) -> WildrydesError:
    from wildrydes_mr.aws import BotoCoreError, ClientError, error_message

    if isinstance(exc, WildrydesError):
        return exc
    if isinstance(exc, ClientError | BotoCoreError):
        return AwsError(f"{resource.kind} {resource.name}", resource.region, error_message(exc),
                        hint="fix the cause and run the same command again: it continues where it stopped")
    raise exc


def _require_owned(ctx: Context, resource: Resource, live: Any) -> None:
    """Refuses to take over a same-named resource that another deployment (or someone) made: cleanup would
    otherwise delete it later."""
    tags = resource.owner_tags(ctx, live)
    if tags is None:
        return
    owner = tags.get("wildrydes:deployment")
    if owner != ctx.config.deployment:
        whose = f"deployment {owner!r}" if owner else "no wildrydes deployment"
        raise WildrydesError(
            f"{resource.kind} {resource.name} in {resource.region} already exists and belongs to {whose}; "
            "refusing to take it over", hint="choose another `deployment` (or api.table), or remove that resource")


def _mentions_placeholder(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER in value
    if depth > 6:
        return False
    if isinstance(value, dict):
        return any(_mentions_placeholder(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_mentions_placeholder(v, depth + 1) for v in value)
    if hasattr(value, "__dict__") and not callable(value):
        return any(_mentions_placeholder(v, depth + 1) for v in vars(value).values())
    return False


def converge_one(ctx: Context, resource: Resource) -> dict[str, Any]:
    """Finds one resource and creates, updates or leaves it; returns its attributes (empty in a dry run)."""
    try:
        live = None if ctx.dry_run and _mentions_placeholder(resource) else resource.find(ctx)
        if live is not None:
            _require_owned(ctx, resource, live)
        if live is None:
            verb, changes = CREATE, []
        else:
            changes = resource.changes(ctx, live)
            verb = UPDATE if changes else NOTHING
        action = Action(verb, resource.kind, resource.region, resource.name, ", ".join(changes))
        ctx.actions.append(action)
        ctx.reporter.action(action, ctx.dry_run)
        if ctx.dry_run:
            return resource.attributes(ctx, live) if live is not None else {}
        if verb == CREATE:
            attributes = resource.create(ctx)
        elif verb == UPDATE:
            attributes = resource.update(ctx, live, changes)
        else:
            attributes = resource.attributes(ctx, live)
    except Exception as exc:  # noqa: BLE001 - AWS errors become one message naming resource and region
        raise _aws_failure(resource, exc) from exc
    ctx.record(resource, **attributes)
    return attributes


def converge(ctx: Context, resources: Iterable[Resource]) -> list[dict[str, Any]]:
    """Converges resources one after another, in the order given (their dependency order)."""
    return [converge_one(ctx, resource) for resource in resources]


def in_parallel(tasks: dict[str, Callable[[], Any]], parallel: bool = True) -> dict[str, Any]:
    """Runs independent tasks (one per region, say) concurrently; the first failure is raised."""
    if not parallel or len(tasks) < 2:
        return {name: task() for name, task in tasks.items()}
    with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="wildrydes") as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: future.result() for name, future in futures.items()}


# --- teardown -------------------------------------------------------------------------------------------

Deleter = Callable[["Context", dict[str, Any]], None]


def teardown(ctx: Context, records: list[dict[str, Any]], deleters: dict[str, Deleter]
             ) -> tuple[list[Action], list[WildrydesError]]:
    """Deletes `records` in the order given (newest first), removing each from state once it is gone.

    A resource that cannot be deleted is reported and left in the state file; the others are still deleted, so
    a re-run has only the failures left to do."""
    from wildrydes_mr.aws import BotoCoreError, ClientError, error_message, is_not_found

    done: list[Action] = []
    failures: list[WildrydesError] = []
    for record in records:
        kind, region, name = record["kind"], record["region"], record["name"]
        action = Action(DELETE, kind, region, name)
        ctx.reporter.action(action, ctx.dry_run)
        if ctx.dry_run:
            done.append(action)
            continue
        deleter = deleters.get(kind)
        try:
            if deleter is None:
                raise WildrydesError(f"state file records a {kind!r} ({name}) that this version cannot delete")
            try:
                deleter(ctx, record)
            except (ClientError, BotoCoreError) as exc:
                if not is_not_found(exc):
                    raise AwsError(f"{kind} {name}", region, error_message(exc),
                                   hint="fix the cause and run cleanup again: it continues where it stopped") from exc
        except WildrydesError as exc:
            failures.append(exc)
            ctx.reporter.warn(exc.message)
            continue
        ctx.state.remove(kind, region, name)
        done.append(action)
    return done, failures
