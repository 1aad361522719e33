"""What a node still busy at the deadline is reported to have said (``probes.frontdoors.
unanswered``), for each combination of what was asked, in-process.

Through the plugin this path is a race: every read of a node's thread ends at the deadline the
check waits for, so whether the thread or the wait ends first is thread order (the node then
says "no answer in time" or "no answer within the deadline").  The function does no I/O: here
each case is given the partial facts such a thread leaves behind."""

from __future__ import annotations

from outlook_anywhere.facts.frontdoors import AuthFacts, FrontDoorFacts, Health
from outlook_anywhere.probes.frontdoors import Asked, unanswered

WHY = "no answer within the deadline"
NODE = "198.51.100.7"  # never connected to: a label


def test_metadata_not_answered_is_an_http_failure_saying_why() -> None:
    """--auth-certificate alone, asked of a node that had answered nothing: health and build
    stay unasked (None), not failed."""
    found = unanswered(FrontDoorFacts(NODE), Asked(True, (), False, "autodiscover.x.test"), WHY)
    assert found.auth is not None
    assert (found.auth.host, found.auth.failure, found.auth.detail) == (
        "autodiscover.x.test",
        "http",
        WHY,
    )
    assert (found.health, found.build, found.build_error) == (None, None, "")


def test_metadata_answered_before_the_deadline_is_kept() -> None:
    partial = FrontDoorFacts(NODE)
    partial.auth = AuthFacts("mail.x.test")
    partial.auth.failure = "no-signing-key"
    found = unanswered(partial, Asked(True, (), False), WHY)
    assert found.auth is partial.auth


def test_health_pages_not_read_are_marked_and_those_read_kept() -> None:
    """--health owa,ecp,ews and --build, stopped after the first page: the server name it gave
    is kept, the two other pages and the build say why; metadata stays unasked."""
    partial = FrontDoorFacts(NODE)
    partial.server = "EX01.x.test"
    partial.health = [Health("owa", 200, "200 OK")]
    found = unanswered(partial, Asked(False, ("owa", "ecp", "ews"), True), WHY)
    assert found.auth is None
    assert found.server == "EX01.x.test"
    assert [(h.vdir, h.code, h.error) for h in found.health or []] == [
        ("owa", 200, ""),
        ("ecp", None, WHY),
        ("ews", None, WHY),
    ]
    assert (found.build, found.build_status, found.build_error) == (None, "", WHY)


def test_a_build_read_before_the_deadline_is_no_failure() -> None:
    """--build alone, its answer in: kept as read, no error."""
    partial = FrontDoorFacts(NODE)
    partial.build, partial.build_status = "15.2.1544.14", "302 Found"
    found = unanswered(partial, Asked(False, (), True), WHY)
    assert (found.auth, found.health) == (None, None)
    assert (found.build, found.build_status, found.build_error) == ("15.2.1544.14", "302 Found", "")
