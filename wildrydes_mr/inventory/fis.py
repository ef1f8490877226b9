"""AWS FIS: the experiment templates of this deployment (the game day's replication pause).

- fis-experiment-template: ListExperimentTemplates (its summaries carry the tags); tagged. Recorded under its Name
  tag (the name the state file knows it by) and its id, which its deleter needs. An emulator without FIS has none.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.inventory.scan import BY_TAG, Scan, record
from wildrydes_mr.resources import fis


def find_templates(scan: Scan, region: str) -> list[dict[str, Any]]:
    def listed(client: Any) -> list[dict[str, Any]]:
        return [summary for page in client.get_paginator("list_experiment_templates").paginate()
                for summary in page["experimentTemplates"]]

    found = []
    for summary in scan.unless_gone_or_emulator_gap("fis", region, listed, []):
        tags = summary.get("tags") or {}
        if scan.ours(tags):
            found.append(record(fis.PauseTemplate.kind, region, tags.get("Name") or summary["id"], BY_TAG,
                                id=summary["id"], arn=summary.get("arn", "")))
    return found
