"""The rows of Kerberos and ``--auth``, in-process: ``judgement.kerberos`` on facts built here
(every finding as exact data: kind, state, node, evidence) and the words of ``check.words``
for each problem, on the first line and in the long output, for a node's logon and for
Autodiscover's.  The lab-backed tests (tests/test_logon_kerberos.py) hold the same rows end to
end; these hold each rule and each sentence exactly."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Unknown

from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.autodiscover import failed
from outlook_anywhere.check.words.kerberos import kerberos_problem
from outlook_anywhere.facts.http import AutodiscoverFacts
from outlook_anywhere.facts.logon import ACCEPTED, FAILED, REFUSED, Authentication
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.autodiscover import judge_autodiscover
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.kerberos import judge_kerberos, state_of
from outlook_anywhere.judgement.logon import judge_authentication
from tests.test_words import policy

A = "10.0.0.1"
SPN = "HTTP/mail.contoso.com"


def auth(
    scheme: str = "Kerberos",
    outcome: str = REFUSED,
    detail: str = "",
    code: int | None = None,
    offered: tuple[str, ...] = ("Negotiate", "NTLM"),
    mode: str = "kerberos",
    retry: str = "",
) -> Authentication:
    facts = Authentication(scheme, list(offered), False, outcome, retry, detail)
    facts.krb_code, facts.spn, facts.mode = code, SPN, mode
    return facts


def judged(facts: Authentication, protocol: str = "RPC") -> list[tuple[object, ...]] | None:
    found = judge_kerberos(A, protocol, facts)
    return None if found is None else [(f.kind, f.state, f.node, f.evidence) for f in found]


def ev(problem: str, code: int | None = None, **more: object) -> dict[str, object]:
    return {"protocol": "RPC", "spn": SPN, "code": code, **more, "problem": problem}


# -- judgement.kerberos ---------------------------------------------------------------------------

POLLER = [
    "missing", "kdc-unreachable", "no-kdc", "client-unknown", "client-revoked",
    "password-expired", "preauth-failed", "no-credential", "failed",
]  # fmt: skip
ARRAY = ["spn-unknown", "skew", "key", "node-skew", "mutual", "refused"]


@pytest.mark.parametrize("problem", POLLER)
def test_the_pollers_own_kerberos_problem_is_unknown(problem: str) -> None:
    assert judged(auth(detail=f"krb-{problem}")) == [(k.LOGON_KERBEROS, Unknown, A, ev(problem))]
    assert state_of(problem) is Unknown


@pytest.mark.parametrize("problem", ARRAY)
def test_the_arrays_kerberos_problem_is_critical(problem: str) -> None:
    assert judged(auth(detail=f"krb-{problem}", code=7)) == [
        (k.LOGON_KERBEROS, Critical, A, ev(problem, 7))
    ]
    assert state_of(problem) is Critical


@pytest.mark.parametrize(
    "detail", ["kerberos-not-offered", "ntlm-not-offered", "basic-not-offered"]
)
def test_a_mechanism_not_offered_is_critical_naming_what_is(detail: str) -> None:
    facts = auth(scheme="", outcome="", detail=detail, offered=("Basic",))
    assert judged(facts, "MAPI") == [
        (
            k.LOGON_KERBEROS,
            Critical,
            A,
            {"protocol": "MAPI", "spn": SPN, "code": None, "offered": ["Basic"], "problem": detail},
        )
    ]


@pytest.mark.parametrize(("code", "problem"), [(31, "key"), (41, "key"), (44, "key"),
                                               (33, "node-skew"), (37, "node-skew")])  # fmt: skip
def test_a_refused_ticket_is_read_by_its_krb_error_code(code: int, problem: str) -> None:
    assert judged(auth(code=code)) == [(k.LOGON_KERBEROS, Critical, A, ev(problem, code))]


@pytest.mark.parametrize("code", [None, 30, 32, 34, 36, 38, 40, 42, 43, 45])
def test_a_refused_ticket_with_another_code_is_no_kerberos_finding(code: int | None) -> None:
    assert judged(auth(code=code)) is None


def test_only_a_kerberos_refusal_is_read_by_its_code() -> None:
    assert judged(auth(outcome=FAILED, code=44)) is None
    assert judged(auth(outcome=ACCEPTED, code=44)) is None
    assert judged(auth(scheme="NTLM", code=44, mode="negotiate")) is None


def test_the_detail_wins_over_the_code() -> None:
    assert judged(auth(detail="krb-mutual", code=44)) == [
        (k.LOGON_KERBEROS, Critical, A, ev("mutual", 44))
    ]
    assert judged(auth(detail="ntlm-not-offered", code=44, offered=())) == [
        (k.LOGON_KERBEROS, Critical, A, ev("ntlm-not-offered", 44, offered=[]))
    ]


def ntlm(outcome: str = REFUSED, detail: str = "", offered: tuple[str, ...] = ("Negotiate",),
         retry: str = "") -> Authentication:  # fmt: skip
    return auth("NTLM", outcome, detail, None, offered, "ntlm", retry)


@pytest.mark.parametrize(
    "facts",
    [ntlm(), ntlm(FAILED, "no-challenge"), ntlm(offered=()), ntlm(offered=("Negotiate", "Basic"))],
    ids=["refused", "no-challenge", "nothing-offered", "negotiate-and-basic"],
)
def test_auth_ntlm_refused_by_a_kerberos_only_node_is_critical(facts: Authentication) -> None:
    offered = list(facts.offered)
    assert judged(facts) == [
        (k.LOGON_KERBEROS, Critical, A,
         {"protocol": "RPC", "spn": SPN, "code": None, "offered": offered,
          "problem": "ntlm-refused"})
    ]  # fmt: skip


@pytest.mark.parametrize(
    "facts",
    [
        ntlm(offered=("Negotiate", "NTLM")),  # offered, refused: the account, not the mechanism
        ntlm(offered=("Negotiate", "ntlm")),
        ntlm(FAILED, "timeout"),  # no verdict: no answer, not a refusal
        ntlm(ACCEPTED),
        ntlm(REFUSED, retry=ACCEPTED),  # accepted without the binding
        auth("NTLM", REFUSED, "", None, ("Negotiate",), "negotiate"),  # not --auth ntlm
    ],
    ids=["ntlm-offered", "ntlm-offered-lower", "failed", "accepted", "accepted-on-retry",
         "auth-negotiate"],
)  # fmt: skip
def test_other_ntlm_outcomes_are_no_kerberos_finding(facts: Authentication) -> None:
    assert judged(facts) is None


def test_a_logon_without_any_kerberos_matter_is_none() -> None:
    assert judged(auth(scheme="NTLM", outcome=ACCEPTED, mode="negotiate")) is None
    assert judged(auth(detail="ntlm-missing")) is None


# -- the words of a node's logon ------------------------------------------------------------------


def said(evidence: dict[str, object], limit: int = 200) -> str:
    return phrase(Finding(k.LOGON_KERBEROS, Critical, A, evidence), limit)


POLLER_WORDS = {
    "missing": "the Python module gssapi is not installed (apt install python3-gssapi on Debian,"
    " or pip install 'check_outlook_anywhere[kerberos]')",
    "kdc-unreachable": "the KDC did not answer within the deadline (Kerberos): check the realm's"
    " kdc in krb5.conf and that port 88 is open from the poller",
    "no-kdc": "no KDC for the realm (Kerberos): name it in krb5.conf or publish _kerberos SRV"
    " records",
    "client-unknown": "the KDC does not know the --username principal (Kerberos)",
    "client-revoked": "the KDC refuses the --username principal: disabled or locked out",
    "password-expired": "the --username principal's password has expired (Kerberos)",
    "preauth-failed": "the KDC refused the poller's credential (pre-authentication failed): a"
    " stale keytab (renew --keytab after a password change) or a wrong password",
    "no-credential": "no usable Kerberos credential: the keytab or KRB5CCNAME's ticket cache is"
    " missing, unreadable or expired",
    "failed": "Kerberos failed on the poller",
    "mutual": "the node's Kerberos mutual-authentication token does not verify",
    "refused": "the node refused the Kerberos ticket",
}


@pytest.mark.parametrize(("problem", "words"), sorted(POLLER_WORDS.items()))
def test_each_problem_has_its_sentence(problem: str, words: str) -> None:
    assert said(ev(problem)) == f"RPC logon (Kerberos): {words}"
    assert kerberos_problem(problem) == words


def test_an_unknown_problem_is_named_as_it_came() -> None:
    assert said(ev("weird")) == "RPC logon (Kerberos): Kerberos: weird"
    long = "p" * 41
    assert said(ev(long)) == f"RPC logon (Kerberos): Kerberos: {'p' * 37}..."
    assert said(ev("p" * 40)) == f"RPC logon (Kerberos): Kerberos: {'p' * 40}"


SPN_UNKNOWN = (
    "RPC logon (Kerberos): the KDC has no HTTP/mail.contoso.com (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
)
KEY = "RPC logon (Kerberos): the node cannot decrypt the ticket for HTTP/mail.contoso.com"
SKEW = "RPC logon (Kerberos): clock skew between the node and the KDC"
ASA = (
    ": it does not hold the Alternate Service Account's current key;"
    " fix: update the ASA credential on this node (RollAlternateServiceAccountPassword.ps1)"
)
SYNC = (
    ": the ticket is not yet or no longer valid there; fix: synchronise the clocks (w32tm /resync)"
)


@pytest.mark.parametrize(
    ("evidence", "first_line", "long_output"),
    [
        (ev("spn-unknown", 7), SPN_UNKNOWN,
         SPN_UNKNOWN + ": register the SPN on the Alternate Service Account"
         " (setspn -S HTTP/mail.contoso.com followed by its account name)"),
        ({**ev("spn-unknown"), "spn": ""},
         "RPC logon (Kerberos): the KDC has no HTTP/HOST (KDC_ERR_S_PRINCIPAL_UNKNOWN)",
         "RPC logon (Kerberos): the KDC has no HTTP/HOST (KDC_ERR_S_PRINCIPAL_UNKNOWN): register"
         " the SPN on the Alternate Service Account (setspn -S HTTP/HOST followed by its account"
         " name)"),
        (ev("key", 44), KEY + " (KRB_AP_ERR_BADKEYVER, code 44)",
         KEY + " (KRB_AP_ERR_BADKEYVER, code 44)" + ASA),
        (ev("key", 41), KEY + " (KRB_AP_ERR_MODIFIED, code 41)",
         KEY + " (KRB_AP_ERR_MODIFIED, code 41)" + ASA),
        (ev("key", 31), KEY + " (KRB_AP_ERR_MODIFIED, code 31)",
         KEY + " (KRB_AP_ERR_MODIFIED, code 31)" + ASA),
        (ev("node-skew", 37), SKEW + " (code 37)", SKEW + " (code 37)" + SYNC),
        (ev("skew", 37), SKEW + " (code 37)", SKEW + " (code 37)" + SYNC),
        (ev("skew"), SKEW, SKEW + SYNC),
        (ev("skew", 0), SKEW + " (code 0)", SKEW + " (code 0)" + SYNC),
    ],
    ids=["spn", "spn-unnamed", "key-44", "key-41", "key-31", "node-skew", "skew", "skew-no-code",
         "skew-code-0"],
)  # fmt: skip
def test_the_first_line_says_what_and_the_long_output_why_and_the_fix(
    evidence: dict[str, object], first_line: str, long_output: str
) -> None:
    assert said(evidence, 80) == first_line
    assert said(evidence, 199) == first_line
    assert said(evidence) == long_output


def test_names_and_codes_are_bounded() -> None:
    spn = "HTTP/" + "m" * 76  # 81 characters: cut to 80
    assert said({**ev("spn-unknown"), "spn": spn}, 80) == (
        f"RPC logon (Kerberos): the KDC has no HTTP/{'m' * 72}... (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
    )
    fits = "HTTP/" + "m" * 75  # 80: shown whole
    assert said({**ev("spn-unknown"), "spn": fits}, 80) == (
        f"RPC logon (Kerberos): the KDC has no {fits} (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
    )
    assert said(ev("key", 123456789), 80) == KEY + " (KRB_AP_ERR_MODIFIED, code 12345...)"
    assert said(ev("key", 12345678), 80) == KEY + " (KRB_AP_ERR_MODIFIED, code 12345678)"
    assert said(ev("skew", 123456789), 80) == SKEW + " (code 12345...)"
    assert said(ev("skew", 12345678), 80) == SKEW + " (code 12345678)"


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        (ev("kerberos-not-offered", offered=["NTLM", "Basic"]),
         "RPC does not offer Kerberos (Negotiate) and --auth kerberos (offers NTLM, Basic)"),
        (ev("kerberos-not-offered", offered=[]),
         "RPC does not offer Kerberos (Negotiate) and --auth kerberos (offers none)"),
        (ev("kerberos-not-offered"),
         "RPC does not offer Kerberos (Negotiate) and --auth kerberos (offers none)"),
        (ev("ntlm-not-offered", offered=["Negotiate"]),
         "RPC does not offer NTLM and --auth ntlm (offers Negotiate)"),
        (ev("basic-not-offered", offered=["Negotiate", "NTLM"]),
         "RPC does not offer Basic and --auth basic (offers Negotiate, NTLM)"),
        (ev("ntlm-refused", offered=["Negotiate"]),
         "RPC refuses NTLM and --auth ntlm: the node offers Negotiate only (Kerberos; offers"
         " Negotiate)"),
        (ev("ntlm-refused", offered=["N" * 41]),
         "RPC refuses NTLM and --auth ntlm: the node offers Negotiate only (Kerberos; offers"
         f" {'N' * 37}...)"),
        (ev("ntlm-refused", offered=["N" * 40]),
         "RPC refuses NTLM and --auth ntlm: the node offers Negotiate only (Kerberos; offers"
         f" {'N' * 40})"),
    ],
    ids=["kerberos", "kerberos-none", "kerberos-unsaid", "ntlm", "basic", "ntlm-refused",
         "long-scheme", "scheme-at-the-limit"],
)  # fmt: skip
def test_a_mechanism_the_node_does_not_offer(evidence: dict[str, object], words: str) -> None:
    assert said(evidence, 80) == words
    assert said(evidence) == words


# -- the words of Autodiscover's ---------------------------------------------------------------

WHO = "Autodiscover for monitor@contoso.com: "


def autodiscover(failure: str, detail: object, limit: int = 200) -> str:
    return failed({"failure": failure, "email": "monitor@contoso.com", "detail": detail}, limit)


@pytest.mark.parametrize(
    ("failure", "detail", "words"),
    [
        ("kerberos-not-offered", "NTLM, Basic",
         "the endpoint does not offer Kerberos (Negotiate) and --auth kerberos (offers NTLM,"
         " Basic)"),
        ("ntlm-not-offered", "Negotiate",
         "the endpoint does not offer NTLM and --auth ntlm (offers Negotiate)"),
        ("basic-not-offered", "NTLM", "the endpoint does not offer Basic and --auth basic"
         " (offers NTLM)"),
        ("basic-not-offered", "N" * 81, "the endpoint does not offer Basic and --auth basic"
         f" (offers {'N' * 77}...)"),
        ("basic-not-offered", "N" * 80, "the endpoint does not offer Basic and --auth basic"
         f" (offers {'N' * 80})"),
        ("kerberos-no-kdc", "autodiscover.contoso.com", POLLER_WORDS["no-kdc"]),
        ("kerberos-mutual", "autodiscover.contoso.com", POLLER_WORDS["mutual"]),
    ],
)  # fmt: skip
def test_autodiscover_says_the_mechanism_or_the_problem(
    failure: str, detail: str, words: str
) -> None:
    assert autodiscover(failure, detail, 80) == WHO + words
    assert autodiscover(failure, detail) == WHO + words


def test_autodiscover_names_the_spn_of_its_host_and_the_code() -> None:
    spn = "the KDC has no HTTP/autodiscover.contoso.com (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
    detail = "autodiscover.contoso.com 7"
    assert autodiscover("kerberos-spn-unknown", detail, 80) == WHO + spn
    assert autodiscover("kerberos-spn-unknown", detail) == (
        WHO + spn + ": register the SPN on the Alternate Service Account"
        " (setspn -S HTTP/autodiscover.contoso.com followed by its account name)"
    )
    key = (
        "the node cannot decrypt the ticket for HTTP/autodiscover.contoso.com"
        " (KRB_AP_ERR_BADKEYVER, code 44)"
    )
    assert autodiscover("kerberos-key", "autodiscover.contoso.com 44", 80) == WHO + key
    assert autodiscover("kerberos-key", "autodiscover.contoso.com 44") == WHO + key + ASA
    skew = "clock skew between the node and the KDC"
    assert autodiscover("kerberos-skew", "autodiscover.contoso.com", 80) == WHO + skew
    assert autodiscover("kerberos-skew", "autodiscover.contoso.com") == WHO + skew + SYNC
    assert autodiscover("kerberos-skew", "autodiscover.contoso.com 37") == (
        WHO + skew + " (code 37)" + SYNC
    )
    host = "a" * 81  # cut to 80 as a host, then the SPN it makes to 80
    assert autodiscover("kerberos-spn-unknown", host, 80) == (
        f"{WHO}the KDC has no HTTP/{'a' * 72}... (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
    )


def test_a_kerberos_matter_is_the_logons_only_finding() -> None:
    found = judge_authentication(A, "RPC", auth(detail="krb-no-kdc"), "require")
    assert [(f.kind, f.state, f.node, f.evidence) for f in found] == [
        (k.LOGON_KERBEROS, Unknown, A, ev("no-kdc"))
    ]


@pytest.mark.parametrize(
    ("failure", "state"),
    [("kerberos-no-kdc", Unknown), ("kerberos-preauth-failed", Unknown),
     ("kerberos-spn-unknown", Critical), ("kerberos-skew", Critical),
     ("kerberos-not-offered", Critical), ("ntlm-missing", Unknown), ("unauthorized", Critical)],
)  # fmt: skip
def test_autodiscovers_kerberos_failure_is_unknown_for_the_pollers_own(
    failure: str, state: object
) -> None:
    facts = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    facts.error_kind, facts.error = failure, "autodiscover.contoso.com"
    [found] = judge_autodiscover(facts, policy(), [])
    assert (found.kind, found.state, found.node) == (k.AUTODISCOVER_FAILED, state, None)
    assert found.evidence == {
        "email": "monitor@contoso.com",
        "redirected": False,
        "failure": failure,
        "detail": "autodiscover.contoso.com",
        "last": "",
    }


def test_a_problem_without_spn_names_the_service_class() -> None:
    assert kerberos_problem("spn-unknown") == (
        "the KDC has no HTTP/HOST (KDC_ERR_S_PRINCIPAL_UNKNOWN): register the SPN on the"
        " Alternate Service Account (setspn -S HTTP/HOST followed by its account name)"
    )


def test_every_problem_is_the_pollers_or_the_arrays_and_has_its_sentence() -> None:
    """The judgement's two classes of problem split what the words can say: none is both, and
    none falls back to the bare name."""
    from outlook_anywhere.check.words.kerberos import _KERBEROS
    from outlook_anywhere.judgement.kerberos import ARRAY, POLLER

    assert POLLER.isdisjoint(ARRAY)
    assert set(_KERBEROS) | {"spn-unknown", "key", "skew", "node-skew"} == POLLER | ARRAY
    assert all(state_of(problem) is Critical for problem in ARRAY)
    assert not any(kerberos_problem(p).startswith("Kerberos: ") for p in POLLER | ARRAY)
