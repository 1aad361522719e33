"""What the command line asks of the array, as the rules read it (``judgement.policy``): a
threshold keeps the range as printed and as the user wrote it, and a policy what each option
said, with the defaults of the options not given."""

from __future__ import annotations

from nagiosplugin import Range

from outlook_anywhere.check.options import threshold
from outlook_anywhere.judgement.policy import FrontDoorPolicy, Policy, Threshold


def test_a_threshold_keeps_its_text_its_range_and_what_was_written() -> None:
    plain = threshold("30")
    assert (plain.text, str(plain.range), plain.plain, plain.given) == ("30:", "30:", True, "30")
    ranged = threshold("@10:20")
    assert (ranged.text, ranged.plain, ranged.given) == ("@10:20", False, "@10:20")


def test_a_threshold_by_default_is_a_range_written_as_printed() -> None:
    made = Threshold("10:", Range("10:"))
    assert (made.text, made.plain, made.given) == ("10:", False, "10:")
    assert Threshold("10:", Range("10:"), given="").given == "10:"


def test_a_policy_keeps_every_option() -> None:
    doors = FrontDoorPolicy(threshold("60"), threshold("30"), "15.2.1", "15.1.1")
    assert (doors.auth_warning.given, doors.auth_critical.given) == ("60", "30")
    assert (doors.min_build, doors.min_build_critical) == ("15.2.1", "15.1.1")
    policy = Policy(
        "mail.contoso.com", "mail.contoso.com", "cn-or-san", threshold("30"), threshold("14"),
        False, ("NTLM",), "require", doors,
    )  # fmt: skip
    assert (policy.principal, policy.host, policy.match_mode) == (
        "mail.contoso.com", "mail.contoso.com", "cn-or-san"
    )  # fmt: skip
    assert (policy.warning.given, policy.critical.given, policy.check_trust) == ("30", "14", False)
    assert (policy.expect_auth, policy.extended_protection, policy.frontdoors) == (
        ("NTLM",), "require", doors
    )  # fmt: skip


def test_a_policy_by_default() -> None:
    policy = Policy(None, None, "cn", threshold("30"), threshold("14"), True)
    assert (policy.expect_auth, policy.extended_protection, policy.frontdoors) == (
        (),
        "accept",
        None,
    )
    doors = FrontDoorPolicy(threshold("60"), threshold("30"))
    assert (doors.min_build, doors.min_build_critical) == (None, None)
