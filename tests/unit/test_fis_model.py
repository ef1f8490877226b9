"""FIS as the local stand-ins model it (wildrydes_mr/local/fis_model.py): ISO 8601 durations, an experiment's life
over time, and which tables a template's pause actions pause. Template refusals are covered through the behaviour
rule (tests/unit/test_behaviour_rules_fis.py) and the local cloud's front (tests/functional/test_local_fis.py)."""

from __future__ import annotations

import pytest

from wildrydes_mr.local.fis_model import FisValidationError, Timeline, parse_duration, paused_table_arns, runs_for


@pytest.mark.parametrize(("text", "seconds"), [("PT1M", 60), ("PT90S", 90), ("PT1H30M", 5400), ("P1D", 86400),
                                               ("PT12H", 43200), ("PT0.5S", 0.5)])
def test_iso_8601_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "5M", "PT5", "PT-1M", "1 minute", "", None, 60])
def test_what_is_not_an_iso_8601_duration_is_refused(text):
    with pytest.raises(FisValidationError):
        parse_duration(text)


def test_an_experiment_initiates_runs_then_completes():
    timeline = Timeline(started=100.0, runs_for=60.0, initiating=5.0)
    assert [timeline.status(t)[0] for t in (100, 104.9, 105, 164.9, 165, 1000)] == [
        "initiating", "initiating", "running", "running", "completed", "completed"]
    assert timeline.ended_at(120) is None and timeline.ended_at(200) == 165
    assert not timeline.pausing(104) and timeline.pausing(105) and not timeline.pausing(165)


def test_a_stopped_experiment_stops_and_stays_stopped():
    timeline = Timeline(started=0.0, runs_for=60.0, stopping=10.0)
    timeline.stop_requested = 20.0
    assert [timeline.status(t)[0] for t in (19, 20, 29.9, 30, 500)] == [
        "stopping", "stopping", "stopping", "stopped", "stopped"]
    assert timeline.pausing(25) and not timeline.pausing(30) and timeline.ended_at(31) == 30
    late = Timeline(started=0.0, runs_for=60.0, stop_requested=70.0)  # asked after it had completed
    assert late.status(80)[0] == "completed"


def test_a_failed_experiment_fails_once_initiating_is_over_and_pauses_nothing():
    timeline = Timeline(started=0.0, runs_for=60.0, initiating=5.0, failed="Target resolution failed")
    assert timeline.status(1) == ("initiating", "Experiment is initiating")
    assert timeline.status(6) == ("failed", "Target resolution failed")
    assert not any(timeline.pausing(t) for t in (1, 6, 30, 100))


def test_the_pause_actions_tables_and_the_longest_action():
    targets = {"A": {"resourceArns": ["arn:aws:dynamodb:eu-west-1:123456789012:table/T"]},
               "B": {"resourceArns": ["arn:aws:dynamodb:eu-west-1:123456789012:table/U"]}}
    actions = {"pause": {"actionId": "aws:dynamodb:global-table-pause-replication",
                         "parameters": {"duration": "PT2M"}, "targets": {"Tables": "A"}},
               "wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT5M"}}}
    assert paused_table_arns(targets, actions) == ["arn:aws:dynamodb:eu-west-1:123456789012:table/T"]
    assert runs_for(actions) == 300
