"""The game day's data check (rpo.py): lost writes are the primary's acknowledged writes that the secondary lacks
at takeover, RPO counts from the primary's last acknowledgement back to the oldest lost one, reappearance after
failback is checked against what the secondary lists, and conflicts name tickets both regions acknowledged or
hold in different versions."""

from __future__ import annotations

import pytest

from wildrydes_mr import rpo
from wildrydes_mr.apiclient import ApiResponse
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.gameday import Write

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"


class FakeRegionApi:
    """A regional tickets API whose listing is `tickets` (changeable), served in pages of `page_size`."""

    def __init__(self, region: str, tickets: dict[str, dict] | None = None, page_size: int = 2, status: int = 200):
        self.region, self.tickets, self.page_size, self.status = region, dict(tickets or {}), page_size, status
        self.calls = 0

    def list_tickets(self, limit=None, next_token=None):
        self.calls += 1
        ids = sorted(self.tickets)
        start = int(next_token or 0)
        page = ids[start:start + self.page_size]
        more = start + self.page_size < len(ids)
        body = {"tickets": [self.tickets[i] for i in page], "next": str(start + self.page_size) if more else None}
        return ApiResponse(self.status, body, {})


def write(seq: int, acked_at: float | None, region: str = PRIMARY) -> Write:
    return Write(seq, f"canary #{seq}", acked_at - 0.05 if acked_at else 0.0, acked_at, 201 if acked_at else 500,
                 f"id-{seq}" if acked_at else None, region)


def ticket(seq: int, **extra) -> dict:
    return {"id": f"id-{seq}", "description": f"canary #{seq}", **extra}


def test_lost_writes_are_the_primarys_acknowledged_writes_missing_from_the_secondary():
    writes = [write(1, 100.0), write(2, 101.0), write(3, 102.0), write(4, 103.0), write(5, None),
              write(6, 104.0, SECONDARY)]
    secondary = FakeRegionApi(SECONDARY, {t["id"]: t for t in (ticket(1), ticket(2), ticket(6))})
    check = rpo.at_takeover(writes, PRIMARY, secondary)
    assert [w.seq for w in check.lost] == [3, 4]  # the secondary's own write and the refused one do not count
    assert check.primary_stopped_at == 103.0
    assert check.rpo_seconds == pytest.approx(1.0)  # the last acknowledgement − the oldest lost one
    assert secondary.calls == 2  # every page was read


def test_nothing_lost_is_an_rpo_of_zero():
    writes = [write(1, 100.0), write(2, 101.0)]
    check = rpo.at_takeover(writes, PRIMARY, FakeRegionApi(SECONDARY, {t["id"]: t for t in (ticket(1), ticket(2))}))
    assert check.lost == [] and check.rpo_seconds == 0.0


def test_a_failed_listing_is_an_error_not_a_loss():
    with pytest.raises(WildrydesError, match="answered 503"):
        rpo.at_takeover([write(1, 100.0)], PRIMARY, FakeRegionApi(SECONDARY, status=503))


def test_after_failback_each_lost_write_is_marked_back_or_not():
    writes = [write(1, 100.0), write(2, 101.0), write(3, 102.0)]
    secondary = FakeRegionApi(SECONDARY, {"id-1": ticket(1)})
    check = rpo.at_takeover(writes, PRIMARY, secondary)
    assert [w.seq for w in check.lost] == [2, 3]
    secondary.tickets["id-2"] = ticket(2)  # replication brought one back; the other never comes
    primary = FakeRegionApi(PRIMARY, {t["id"]: t for t in (ticket(1), ticket(2), ticket(3))})
    rpo.after_failback(check, writes, primary, secondary, settle=0.6)
    rows = rpo.lost_rows(check, 99.0, lambda moment: None if moment is None else f"t{moment:.0f}")
    assert [(r["seq"], r["reappeared"], r["seconds"]) for r in rows] == [(2, True, 2.0), (3, False, 3.0)]
    assert rows[0]["reappeared_at"] is not None and rows[1]["reappeared_at"] is None
    assert rows[0]["acked_at"] == "t101"
    assert [(r["sent_seconds"], r["sent_at"]) for r in rows] == [(1.95, "t101"), (2.95, "t102")]


def test_rows_before_the_failback_check_say_not_checked():
    check = rpo.at_takeover([write(1, 100.0)], PRIMARY, FakeRegionApi(SECONDARY))
    assert rpo.lost_rows(check, 99.0, str)[0]["reappeared"] is None


def test_conflicts_name_tickets_acknowledged_in_both_regions_or_held_in_different_versions():
    writes = [write(1, 100.0), write(1, 101.0, SECONDARY), write(2, 102.0), write(3, 103.0)]
    primary = {"id-1": ticket(1), "id-2": ticket(2, status="open"), "id-3": ticket(3)}
    secondary = {"id-1": ticket(1), "id-2": ticket(2, status="closed"), "id-3": ticket(3)}
    found = {c["ticket_id"]: c for c in rpo.conflicts(writes, primary, secondary, PRIMARY, SECONDARY)}
    assert set(found) == {"id-1", "id-2"}
    assert found["id-1"]["regions"] == sorted([PRIMARY, SECONDARY])
    assert "both regions" in found["id-1"]["detail"] and found["id-1"]["winner"] == "both agree"
    assert "differ" in found["id-2"]["detail"] and found["id-2"]["winner"] is None
