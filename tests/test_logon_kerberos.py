"""Kerberos through the CLI (``--auth``, ``--keytab``): a real MIT KDC
(contrib/lab/identities/kdc.py) and the lab's Kerberos-only front ends
(contrib/lab/endpoints/web.py: ``krb.contoso.test`` for Autodiscover, ``logon-krb*`` for the logons,
each node with its own keytab), every row of the Kerberos states table, the three credential
sources, and no ticket cache left anywhere.

The Debian packages of the KDC and python-gssapi are required: missing, the tests fail under
``CI`` and are skipped elsewhere (as tests/lab/test_kdc.py).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.identities.kdc import (
    FAKETIME_PACKAGE,
    Kdc,
    faketime_library,
    missing_programs,
)
from contrib.lab.identities.silent_kdc import SilentKdc
from tests.conftest import Outcome, run_plugin

KRB_ENDPOINT = "krb.contoso.test"  # Autodiscover, Kerberos only
NTLM_ENDPOINT = "ntlm.contoso.test"  # Autodiscover, NTLM/Negotiate with NTLM


def missing(what: str) -> None:
    reason = f"{what} (make system-deps, and the test extra of setup.cfg)"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def kdc(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kdc]:
    absent = missing_programs()
    if absent:
        missing("the lab's KDC needs " + ", ".join(absent))
    try:
        import gssapi  # noqa: F401
    except ImportError as exc:
        missing(f"python-gssapi is not installed ({exc})")
    with Kdc(tmp_path_factory.mktemp("kdc"), hosts=lab.web.kerberos_spns()) as running:
        lab.web.use_kdc(running)
        yield running


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("KRB5CCNAME", "KRB5_CLIENT_KTNAME", "KRB5_KTNAME", "OUTLOOK_ANYWHERE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    lab.web.load_zone()
    lab.web.clear()
    yield


@pytest.fixture(scope="module")
def kdc_password_file(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("krb-secret") / "password"
    path.write_text(kdc.password + "\n")
    path.chmod(0o600)
    return str(path)


def check(
    lab: Lab,
    kdc: Kdc,
    host: str,
    *extra: str,
    endpoint: str = KRB_ENDPOINT,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = ("--rpc", "--mapi", "--logon"),
) -> Outcome:
    """The check of the logon host ``host`` through its Autodiscover mailbox, as the realm's
    user, with the realm's krb5.conf."""
    return run_plugin(
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", f"{host}@contoso.test",
        "--autodiscover-url", lab.web.url(endpoint),
        *options,
        *extra,
        env={**kdc.env, **(env or {})},
    )  # fmt: skip


def keytab(kdc: Kdc, path: Path | None = None) -> tuple[str, ...]:
    return ("--username", kdc.user, "--keytab", str(path or kdc.user_keytab))


def clean(out: Outcome) -> None:
    assert out.stderr == "", out.stderr
    assert "Traceback" not in out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def node_line(out: Outcome, address: str) -> str:
    return next(line for line in out.long_output if line.startswith(f"{address} "))


def addresses(lab: Lab, host: str) -> list[str]:
    return lab.web.addresses(f"{host}.contoso.test")


def all_kerberos(lab: Lab, out: Outcome, host: str) -> None:
    """OK on every node, each line naming Kerberos for RPC and MAPI, every logon the nodes saw
    a bound Kerberos token (never NTLM)."""
    clean(out)
    assert out.code == 0, out.stdout
    for address in addresses(lab, host):
        line = node_line(out, address)
        assert line.startswith(f"{address} OK -- "), line
        assert "RPC logon Kerberos, Extended Protection: binding accepted" in line, line
        assert "MAPI logon Kerberos, Extended Protection: binding accepted" in line, line
        assert "CONN/C2 from 6001 mail store" in line and "Disconnect answered" in line, line
    seen = [s for s in lab.web.requests(host=f"{host}.contoso.test") if s.auth]
    assert seen and {s.mechanism for s in seen} == {"kerberos"}
    assert all(s.binding for s in seen if s.outcome == "accepted")
    asked = lab.web.requests(host=KRB_ENDPOINT, outcome="accepted")
    assert asked and {s.mechanism for s in asked} == {"kerberos"}


def ticket_caches(kdc: Kdc) -> dict[str, float]:
    """Every ticket cache a client of this user could write: the system's default places and
    the realm's default cache directory."""
    uid = os.getuid()
    patterns = [
        f"/tmp/krb5cc_{uid}*", f"/var/tmp/krb5_{uid}*", f"/run/user/{uid}/krb5cc*",
        f"{kdc.workdir}/ccache/*",
    ]  # fmt: skip
    return {p: os.stat(p).st_mtime for g in patterns for p in glob.glob(g)}


# -- healthy, three ways ------------------------------------------------------------------------


def test_a_keytab_logs_on_to_every_node_with_kerberos(lab: Lab, kdc: Kdc) -> None:
    before = ticket_caches(kdc)
    out = check(lab, kdc, "logon-krb", *keytab(kdc))
    all_kerberos(lab, out, "logon-krb")
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK"), out.status
    assert ticket_caches(kdc) == before


def test_the_keytab_of_krb5_client_ktname(lab: Lab, kdc: Kdc) -> None:
    before = ticket_caches(kdc)
    env = {"KRB5_CLIENT_KTNAME": str(kdc.user_keytab)}
    out = check(lab, kdc, "logon-krb", "--username", kdc.user, env=env)
    all_kerberos(lab, out, "logon-krb")
    assert ticket_caches(kdc) == before  # MIT's default cache would be written without MEMORY:


def test_a_ticket_cache_the_user_holds_is_used_and_left_as_it_was(
    lab: Lab, kdc: Kdc, tmp_path: Path
) -> None:
    ccache = kdc.kinit(tmp_path / "ccache")
    held = ccache.read_bytes()
    before = ticket_caches(kdc)
    out = check(lab, kdc, "logon-krb", env={"KRB5CCNAME": f"FILE:{ccache}"})
    all_kerberos(lab, out, "logon-krb")
    assert ccache.read_bytes() == held  # the service tickets stayed in memory
    assert ticket_caches(kdc) == before


def test_a_password_becomes_a_ticket_in_memory(lab: Lab, kdc: Kdc, kdc_password_file: str) -> None:
    before = ticket_caches(kdc)
    out = check(lab, kdc, "logon-krb", "--username", kdc.user, "--password-file", kdc_password_file)
    all_kerberos(lab, out, "logon-krb")
    assert ticket_caches(kdc) == before


def test_extended_protection_require_kerberos_refuses_an_unbound_token(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb", *keytab(kdc), "--extended-protection", "require")
    clean(out)
    assert out.code == 0, out.stdout
    unbound = [
        s for s in lab.web.requests(host="logon-krb.contoso.test") if s.auth and not s.binding
    ]
    assert unbound and all(s.outcome == "refused" for s in unbound)


# -- what goes wrong --------------------------------------------------------------------------


def test_a_node_without_the_asa_key_is_named(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb-stale", *keytab(kdc))
    clean(out)
    assert out.code == 2, out.stdout
    stale = addresses(lab, "logon-krb-stale")[1]
    assert out.status.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {stale}: RPC logon (Kerberos)")
    assert "cannot decrypt the ticket for HTTP/logon-krb-stale.contoso.test" in out.status
    assert out.status.endswith("(+3 more) [1/3 nodes OK]"), out.status
    assert "does not hold the Alternate Service Account's current key" in out.stdout
    assert "fix: update the ASA credential on this node" in out.stdout
    previous = node_line(out, addresses(lab, "logon-krb-stale")[2])
    assert "the node cannot decrypt the ticket for HTTP/logon-krb-stale.contoso.test" in previous
    assert "(KRB_AP_ERR_BADKEYVER, code 44)" in previous
    # the refusal is final: no retry without binding on that node
    refused = [s for s in lab.web.requests(address=stale) if s.auth and s.outcome == "refused"]
    assert len(refused) == 2  # once RPC, once MAPI


def test_the_spn_missing_from_the_kdc(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb-nospn", *keytab(kdc))
    clean(out)
    assert out.code == 2, out.stdout
    assert "the KDC has no HTTP/logon-krb-nospn.contoso.test" in out.status
    assert (
        "(setspn -S HTTP/logon-krb-nospn.contoso.test followed by its account name)" in out.stdout
    )
    assert "register the SPN on the Alternate Service Account" in out.stdout
    # no token ever reached the node
    assert not [s for s in lab.web.requests(host="logon-krb-nospn.contoso.test") if s.auth]


def test_an_offloading_device_with_another_certificate_is_told_apart(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb-offload", *keytab(kdc))
    clean(out)
    assert out.code == 2, out.stdout
    first, second = addresses(lab, "logon-krb-offload")
    assert out.status.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {second}: "), out.status
    assert "logon refused with binding, accepted without" in out.status
    assert node_line(out, first).startswith(f"{first} OK -- ")
    assert "Kerberos, with binding refused, without binding accepted" in node_line(out, second)


def test_a_mutual_authentication_token_that_does_not_verify_is_named(lab: Lab, kdc: Kdc) -> None:
    """The node accepts the ticket and answers 200, with a Negotiate token that is no AP-REP of
    this logon: mutual authentication was asked for (RFC 4120 3.2.4), so the logon is not OK."""
    out = check(lab, kdc, "logon-krb-forged", *keytab(kdc))
    clean(out)
    [address] = addresses(lab, "logon-krb-forged")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: RPC logon (Kerberos): the node's Kerberos"
        " mutual-authentication token does not verify (+1 more) [0/1 nodes OK]"
    )
    # the node did accept a bound ticket: only its answer token is wrong
    accepted = lab.web.requests(address=address, outcome="accepted")
    assert accepted and all(s.mechanism == "kerberos" and s.binding for s in accepted)


def test_auth_kerberos_against_an_ntlm_only_front_end(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-ntlm-only", *keytab(kdc), "--auth", "kerberos")
    clean(out)
    assert out.code == 2, out.stdout
    assert "does not offer Kerberos (Negotiate) and --auth kerberos (offers NTLM)" in out.status
    assert not [s for s in lab.web.requests(host="logon-ntlm-only.contoso.test") if s.auth]


def test_auth_ntlm_against_a_kerberos_only_front_end(
    lab: Lab, kdc: Kdc, password_file: str
) -> None:
    out = check(
        lab, kdc, "logon-krb", "--password-file", password_file, "--auth", "ntlm",
        endpoint=NTLM_ENDPOINT,
    )  # fmt: skip
    clean(out)
    assert out.code == 2, out.stdout
    assert "refuses NTLM and --auth ntlm: the node offers Negotiate only" in out.status
    assert out.status.endswith("[0/3 nodes OK]"), out.status
    seen = [s for s in lab.web.requests(host="logon-krb.contoso.test") if s.auth]
    assert seen and {s.mechanism for s in seen} == {"ntlm"}


def test_auth_kerberos_against_an_autodiscover_without_negotiate(lab: Lab, kdc: Kdc) -> None:
    out = check(
        lab, kdc, "logon-krb", *keytab(kdc), "--auth", "kerberos",
        endpoint="autodiscover.contoso.test",
    )  # fmt: skip
    clean(out)
    assert out.code == 2, out.stdout
    assert (
        "the endpoint does not offer Kerberos (Negotiate) and --auth kerberos (offers Basic)"
        in out.status
    )


@pytest.mark.parametrize(("offset", "code"), [(3600, 33), (-3600, 37)], ids=["ahead", "behind"])
def test_a_kdc_clock_apart_from_the_nodes_is_clock_skew(
    lab: Lab, kdc: Kdc, offset: int, code: int
) -> None:
    """MIT's client adopts the KDC's time; the node, on the real clock, refuses the ticket
    (ahead: not yet valid) or the authenticator (behind: skew), first at Autodiscover."""
    if faketime_library() is None:
        missing(f"libfaketime.so.1 is not installed (Debian package {FAKETIME_PACKAGE})")
    kdc.restart(clock_offset=offset)
    try:
        out = check(lab, kdc, "logon-krb", *keytab(kdc))
    finally:
        kdc.restart(clock_offset=0)
    clean(out)
    assert out.code == 2, out.stdout
    assert f"clock skew between the node and the KDC (code {code})" in out.status
    assert "fix: synchronise the clocks" in out.stdout


def test_a_stale_client_keytab_is_unknown(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb", *keytab(kdc, kdc.stale_user_keytab))
    clean(out)
    assert out.code == 3, out.stdout
    assert "the KDC refused the poller's credential (pre-authentication failed)" in out.status
    assert "stale keytab" in out.status


def test_a_wrong_password_is_unknown(lab: Lab, kdc: Kdc, password_file: str) -> None:
    out = check(lab, kdc, "logon-krb", "--username", kdc.user, "--password-file", password_file)
    clean(out)
    assert out.code == 3, out.stdout
    assert "pre-authentication failed" in out.status


def test_a_kdc_that_never_answers_is_unknown_within_the_deadline(
    lab: Lab, kdc: Kdc, tmp_path: Path
) -> None:
    with SilentKdc() as silent:
        config = kdc.client_config(tmp_path / "krb5.conf", kdc=silent.kdc)
        out = check(
            lab, kdc, "logon-krb", *keytab(kdc), "-t", "4", env={"KRB5_CONFIG": str(config)}
        )
    clean(out)
    assert out.code == 3, out.stdout
    assert "the KDC did not answer within the deadline (Kerberos)" in out.status
    assert out.elapsed < 8, out.elapsed  # the check's deadline, not MIT's 54 s


def test_a_closed_kdc_port_is_unknown(lab: Lab, kdc: Kdc, tmp_path: Path) -> None:
    from contrib.lab.network.addresses import free_port

    closed = f"{kdc.address}:{free_port(kdc.address)}"
    config = kdc.client_config(tmp_path / "krb5.conf", kdc=closed)
    out = check(lab, kdc, "logon-krb", *keytab(kdc), env={"KRB5_CONFIG": str(config)})
    clean(out)
    assert out.code == 3, out.stdout
    assert "the KDC did not answer within the deadline (Kerberos)" in out.status


def test_auth_kerberos_without_a_credential_is_a_usage_error(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb", "--auth", "kerberos")
    assert out.code == 3, out.stdout
    assert re.match(
        r"OUTLOOK_ANYWHERE UNKNOWN - --auth kerberos needs a Kerberos credential", out.stdout
    )


# -- the optional dependency ------------------------------------------------------------------


def test_the_ntlm_logon_path_imports_no_kerberos(lab: Lab, password_file: str) -> None:
    """Without a Kerberos credential the logons are NTLM and the plugin's Kerberos module is not
    imported (python-gssapi may be: pyspnego imports it where it is installed)."""
    from tests.test_import_hygiene import imported_by_check

    code, text, modules = imported_by_check(
        "-p", str(lab.web.port), "--dns-server", lab.dns_server, "--ca-file", lab.ca_file,
        "--autodiscover", "logon-ok@contoso.test",
        "--autodiscover-url", lab.web.url(NTLM_ENDPOINT),
        "--password-file", password_file, "--rpc", "--mapi", "--logon",
    )  # fmt: skip
    assert code == 0, text
    assert "RPC logon NTLM" in text
    assert "outlook_anywhere.transport.kerberos" not in modules
    assert "outlook_anywhere.probes.negotiate" in modules  # the check did look for one


# Python's own way to make a module absent: a None in sys.modules fails its import
WITHOUT_GSSAPI = """
import sys
sys.modules["gssapi"] = None
sys.argv[0] = {script!r}
sys.path.insert(0, {repo!r})
import check_outlook_anywhere
text, code = check_outlook_anywhere.run(sys.argv[1:])
sys.stdout.write(text)
sys.exit(code)
"""


@pytest.mark.parametrize(
    "options",
    [("--keytab", "KEYTAB"), ("--auth", "kerberos", "--keytab", "KEYTAB")],
    ids=["keytab", "auth-kerberos"],
)
def test_a_kerberos_option_without_python_gssapi_is_unknown(
    lab: Lab, kdc: Kdc, options: tuple[str, ...]
) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    given = [str(kdc.user_keytab) if o == "KEYTAB" else o for o in options]
    proc = subprocess.run(
        [
            sys.executable, "-c",
            WITHOUT_GSSAPI.format(script=str(REPO / "check_outlook_anywhere.py"), repo=str(REPO)),
            "--autodiscover", "logon-krb@contoso.test", "--username", kdc.user, "--rpc",
            "--logon", *given,
        ],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.startswith(
        "OUTLOOK_ANYWHERE UNKNOWN - Kerberos needs the Python module gssapi, which is not"
        " installed: apt install python3-gssapi (Debian)"
    ), proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_password_is_never_shown(lab: Lab, kdc: Kdc, tmp_path: Path) -> None:
    """A wrong password made into a ticket request: the KDC's refusal is named, the password
    never appears."""
    secret = "Wrong-Kerberos-Secret-42!"
    path = tmp_path / "password"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    out = check(lab, kdc, "logon-krb", "--username", kdc.user, "--password-file", str(path), "-vvv")
    assert out.code == 3, out.stdout
    assert secret not in out.stdout + out.stderr


def test_the_rpc_path_imports_no_kerberos(lab: Lab) -> None:
    from tests.test_import_hygiene import imported_by_check

    code, text, modules = imported_by_check(
        "-H", "rpc-ok.contoso.test", "-p", str(lab.web.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "--rpc",
    )  # fmt: skip
    assert code == 0, text
    assert not [m for m in modules if m.split(".")[0] in ("gssapi", "spnego")]
    assert not [m for m in modules if m.endswith((".kerberos", ".negotiate"))]


def test_auth_basic_against_a_front_end_without_basic(
    lab: Lab, kdc: Kdc, password_file: str
) -> None:
    out = check(
        lab, kdc, "logon-ok", "--password-file", password_file, "--auth", "basic",
        endpoint="autodiscover.contoso.test",
    )  # fmt: skip
    clean(out)
    assert out.code == 2, out.stdout
    assert "does not offer Basic and --auth basic (offers Negotiate, NTLM)" in out.status
    assert not [s for s in lab.web.requests(host="logon-ok.contoso.test") if s.auth]


def test_a_keytab_with_auth_ntlm_is_a_usage_error(lab: Lab, kdc: Kdc) -> None:
    out = check(lab, kdc, "logon-krb", *keytab(kdc), "--auth", "ntlm")
    assert out.code == 3, out.stdout
    assert out.stdout.startswith(
        "OUTLOOK_ANYWHERE UNKNOWN - --keytab needs --auth negotiate or kerberos, not ntlm"
    ), out.stdout


def test_no_kdc_for_the_realm_is_unknown(lab: Lab, kdc: Kdc, tmp_path: Path) -> None:
    """A krb5.conf that names no KDC for the realm (and no DNS lookup of one)."""
    config = tmp_path / "krb5.conf"
    config.write_text(
        "[libdefaults]\n default_realm = CONTOSO.TEST\n dns_lookup_kdc = false\n"
        " dns_lookup_realm = false\n"
    )
    out = check(lab, kdc, "logon-krb", *keytab(kdc), env={"KRB5_CONFIG": str(config)})
    clean(out)
    assert out.code == 3, out.stdout
    assert "no KDC for the realm (Kerberos)" in out.status
