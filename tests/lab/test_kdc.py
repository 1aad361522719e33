"""The lab's Kerberos realm (contrib/lab/identities/kdc.py) end to end with real GSSAPI, without
the plugin.

A real MIT KDC on loopback; an initiator (python-gssapi over MIT's libgssapi_krb5) gets its
tickets from a keytab, from a password (in memory) or from a ticket cache made by MIT's
``kinit``, and sends a token for ``HTTP/<host>`` bound to a ``tls-server-end-point`` value; an
acceptor with a node's keytab accepts it, or refuses it the way a misconfigured node does.  The
minor codes asserted are MIT's krb5 error codes (``ERROR_TABLE_BASE_krb5`` + the protocol's
number): what a client gets to build its words on.  Through the SPNEGO mechanism, MIT's mechglue
renumbers minor codes per process (100000 and up, in order of first use) and only the message
text survives: the failure tests use the Kerberos mechanism for that reason.

The lab's own acceptor (contrib/lab/identities/kerberos.py), which front ends can serve
``Negotiate`` with, is tested at the end: its answers, Extended Protection, replays, NTLM tokens
told apart.

The Debian packages (tests/system-packages.txt) and python-gssapi (the ``test`` extra) are
required: missing, the tests fail under ``CI`` and are skipped elsewhere.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contrib.lab.identities.kdc import (  # noqa: E402
    FAKETIME_PACKAGE,
    Kdc,
    faketime_library,
    missing_programs,
)
from contrib.lab.identities.kerberos import KerberosAcceptor, krb_error_code, token_kind  # noqa: E402
from contrib.lab.identities.silent_kdc import SilentKdc  # noqa: E402
from contrib.lab.network.addresses import free_port  # noqa: E402


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere (tests/integration/conftest.py does the same)."""
    reason = f"{what} (make system-deps, and the test extra of setup.cfg)"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


GSSAPI_MISSING: str | None = None
try:
    import gssapi
    import gssapi.raw
    from gssapi.raw import ChannelBindings
except ImportError as exc:  # pragma: no cover - depends on the machine
    GSSAPI_MISSING = f"python-gssapi is not installed ({exc})"

MAIL = "mail.contoso.test"
NODE3 = "node3.contoso.test"
NO_SPN = "nospn.contoso.test"

SPNEGO = "1.3.6.1.5.5.2"
KERBEROS = "1.2.840.113554.1.2.2"

# MIT's minor codes: ERROR_TABLE_BASE_krb5 + the RFC 4120 error number, or its own codes.
KRB5_BASE = 0x96C73A00
KDC_ERR_S_PRINCIPAL_UNKNOWN = 7
KDC_ERR_PREAUTH_FAILED = 24
KRB_AP_ERR_BAD_INTEGRITY = 31
KRB_AP_ERR_TKT_NYV = 33
KRB_AP_ERR_REPEAT = 34
KRB_AP_ERR_SKEW = 37
KRB_AP_ERR_MODIFIED = 41
KRB_AP_ERR_BADKEYVER = 44
KRB_ERR_GENERIC = 60
KRB5_KDC_UNREACH = KRB5_BASE + 156

GSS_S_BAD_BINDINGS = 4 << 16
GSS_S_NO_CRED = 7 << 16
GSS_S_FAILURE = 13 << 16

UNANSWERED_DEADLINE = 120.0
"""Hard limit for a client facing a KDC that never answers (measured: about 54 s)."""


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def programs() -> None:
    """The Debian packages of the KDC."""
    absent = missing_programs()
    if absent:
        missing("the lab's KDC needs " + ", ".join(absent))


@pytest.fixture(scope="module")
def requirements(programs: None) -> None:
    """The KDC and python-gssapi."""
    if GSSAPI_MISSING:
        missing(GSSAPI_MISSING)


@pytest.fixture(scope="module")
def kdc(programs: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kdc]:
    with Kdc(tmp_path_factory.mktemp("kdc"), hosts=[MAIL, NODE3]) as running:
        yield running


@pytest.fixture
def realm(kdc: Kdc, requirements: None, monkeypatch: pytest.MonkeyPatch) -> Kdc:
    """The realm's krb5.conf for this test's GSSAPI calls (MIT reads it at every call)."""
    for name, value in kdc.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KRB5CCNAME", raising=False)
    monkeypatch.delenv("KRB5_KTNAME", raising=False)
    monkeypatch.delenv("KRB5_CLIENT_KTNAME", raising=False)
    return kdc


# -- GSSAPI, as a client and a node would use it ----------------------------------------------


def oid(dotted: str) -> Any:
    return gssapi.OID.from_int_seq(dotted)


def bindings(certificate: bytes) -> Any:
    """GSS channel bindings carrying ``tls-server-end-point`` (RFC 5929) of ``certificate``."""
    return ChannelBindings(
        application_data=b"tls-server-end-point:" + hashlib.sha256(certificate).digest()
    )


CERTIFICATE = b"the DER of the node's certificate"
OTHER_CERTIFICATE = b"the DER of an offloading device's certificate"


def user_name(kdc: Kdc) -> Any:
    return gssapi.Name(kdc.user, gssapi.NameType.kerberos_principal)


def from_keytab(kdc: Kdc, keytab: Path | None = None, label: str = "keytab") -> Any:
    """Initiator credentials from a client keytab, the tickets kept in a MEMORY cache."""
    return gssapi.Credentials(
        name=user_name(kdc),
        usage="initiate",
        store={"client_keytab": str(keytab or kdc.user_keytab), "ccache": f"MEMORY:{label}"},
    )


def from_password(kdc: Kdc, password: str, mechs: tuple[str, ...] = (KERBEROS, SPNEGO)) -> Any:
    """Initiator credentials from a password (MIT keeps the tickets in memory).  They must be
    asked for SPNEGO by name: for the default mechanisms, MIT gives Kerberos credentials that
    SPNEGO cannot use ("SPNEGO cannot find mechanisms to negotiate")."""
    result = gssapi.raw.acquire_cred_with_password(
        user_name(kdc), password.encode(), usage="initiate", mechs=[oid(m) for m in mechs]
    )
    return gssapi.Credentials(base=result.creds)


def from_ccache(ccache: Path) -> Any:
    return gssapi.Credentials(usage="initiate", store={"ccache": f"FILE:{ccache}"})


def initiator(host: str, creds: Any, mech: str, certificate: bytes | None = CERTIFICATE) -> Any:
    return gssapi.SecurityContext(
        name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
        creds=creds,
        usage="initiate",
        mech=oid(mech),
        flags=gssapi.RequirementFlag.mutual_authentication,
        channel_bindings=bindings(certificate) if certificate is not None else None,
    )


def acceptor(kdc: Kdc, keytab: Path, certificate: bytes | None = CERTIFICATE) -> Any:
    """A node: its own keytab and replay cache (the cred store, not the process environment,
    so that nodes with different keys live in one process)."""
    creds = gssapi.Credentials(
        usage="accept",
        store={"keytab": str(keytab), "rcache": f"file2:{kdc.workdir}/rcache/acceptor.rcache2"},
    )
    return gssapi.SecurityContext(
        creds=creds,
        usage="accept",
        channel_bindings=bindings(certificate) if certificate is not None else None,
    )


def refusal(node: Any, token: bytes) -> tuple[Any, bytes | None]:
    """Give ``token`` to ``node``; return its GSSError and the error token it answers with.

    python-gssapi returns the acceptor's error token from ``step`` and raises the error at the
    next use of the context."""
    answer = node.step(token)
    with pytest.raises(gssapi.exceptions.GSSError) as caught:
        _ = node.complete
    return caught.value, answer


# -- the realm --------------------------------------------------------------------------------


def test_the_kdc_is_refused_an_address_off_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Kdc(tmp_path, hosts=[MAIL], address="192.0.2.88")


def test_the_realm_is_configured_inside_its_workdir(kdc: Kdc) -> None:
    """Every path the KDC and the clients are given lies in the workdir, and the KDC listens
    on its loopback address over both transports."""
    text = kdc.kdc_conf.read_text() + kdc.krb5_conf.read_text()
    values = [line.split("=", 1)[1].strip() for line in text.splitlines() if "=" in line]
    paths = {v.split(":", 1)[1] if v.startswith(("FILE:", "file2:")) else v for v in values}
    paths = {p for p in paths if p.startswith("/")}
    assert len(paths) >= 8, text
    assert all(p.startswith(f"{kdc.workdir}/") for p in paths), sorted(paths)
    with socket.create_connection((kdc.address, kdc.port), timeout=5):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(OSError):
        udp.bind((kdc.address, kdc.port))


def test_the_realm_describes_itself_as_json(kdc: Kdc) -> None:
    described = json.loads(json.dumps(kdc.describe()))
    assert described["kdc"] == kdc.kdc
    assert described["user"] == f"monitor@{kdc.realm}"
    assert sorted(described["spns"]) == sorted([MAIL, NODE3])
    assert described["spns"][MAIL]["principal"] == f"HTTP/{MAIL}@CONTOSO.TEST"
    for keytab in described["spns"][MAIL].values():
        assert keytab.startswith("HTTP/") or Path(keytab).is_file()


# -- healthy logons ---------------------------------------------------------------------------


def logon(kdc: Kdc, creds: Any, mech: str) -> None:
    """The whole exchange with a healthy node: bound token, accepted, mutual auth verified."""
    client = initiator(MAIL, creds, mech)
    token = client.step()
    node = acceptor(kdc, kdc.keytab(MAIL))
    answer = node.step(token)
    assert node.complete
    assert str(node.initiator_name) == kdc.user
    assert gssapi.RequirementFlag.channel_bound in node.actual_flags
    assert answer, "no mutual authentication token"
    assert client.step(answer) is None
    assert client.complete
    assert gssapi.RequirementFlag.mutual_authentication in client.actual_flags


@pytest.mark.parametrize("mech", [SPNEGO, KERBEROS], ids=["spnego", "kerberos"])
def test_a_ticket_from_the_keytab_is_accepted_bound_and_mutual(realm: Kdc, mech: str) -> None:
    logon(realm, from_keytab(realm, label=f"keytab-{mech}"), mech)


def test_a_password_becomes_a_ticket_in_memory(realm: Kdc) -> None:
    logon(realm, from_password(realm, realm.password), SPNEGO)


def test_a_ticket_cache_made_by_kinit_is_used(realm: Kdc, tmp_path: Path) -> None:
    ccache = realm.kinit(tmp_path / "ccache")
    assert stat.S_IMODE(ccache.stat().st_mode) == 0o600
    logon(realm, from_ccache(ccache), SPNEGO)


def test_the_ticket_cache_krb5ccname_names_is_the_default_credential(
    realm: Kdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{realm.kinit(tmp_path / 'ccache')}")
    logon(realm, gssapi.Credentials(usage="initiate"), SPNEGO)


def test_a_client_keytab_from_the_environment_fills_the_default_ticket_cache(
    realm: Kdc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MIT gets default credentials from ``KRB5_CLIENT_KTNAME`` and stores the tickets in the
    default cache (here the realm's, on a poller ``/tmp/krb5cc_<uid>``): a caller that must
    leave nothing behind names a MEMORY cache (the next test)."""
    monkeypatch.setenv("KRB5_CLIENT_KTNAME", str(realm.user_keytab))
    default = realm.workdir / "ccache" / f"krb5cc_{os.getuid()}"
    try:
        logon(realm, gssapi.Credentials(usage="initiate"), SPNEGO)
        assert default.exists()
    finally:
        default.unlink(missing_ok=True)


def test_a_client_keytab_from_the_environment_and_a_memory_cache_write_nothing(
    realm: Kdc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRB5_CLIENT_KTNAME", str(realm.user_keytab))
    creds = gssapi.Credentials(
        name=user_name(realm), usage="initiate", store={"ccache": "MEMORY:environment"}
    )
    logon(realm, creds, SPNEGO)
    assert list((realm.workdir / "ccache").iterdir()) == []


def test_no_ticket_cache_or_replay_cache_outside_the_private_dirs(
    realm: Kdc, tmp_path: Path
) -> None:
    """The three kinds of credentials and an acceptor write nothing where another user could
    look: not /tmp/krb5cc_<uid>, not /var/tmp's replay caches, not the realm's default cache."""
    uid = os.getuid()
    patterns = [f"/tmp/krb5cc_{uid}*", f"/var/tmp/krb5_{uid}*", f"/run/user/{uid}/krb5cc*"]

    def traces() -> dict[str, float]:
        return {p: os.stat(p).st_mtime for g in patterns for p in glob.glob(g)}

    before = traces()
    ccache = realm.kinit(tmp_path / "ccache")
    for creds in (
        from_keytab(realm, label="traces"),
        from_password(realm, realm.password),
        from_ccache(ccache),
    ):
        logon(realm, creds, SPNEGO)
    assert traces() == before
    assert list((realm.workdir / "ccache").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ccache"]


# -- what goes wrong, and the words MIT has for it -------------------------------------------


def test_a_node_with_another_key_cannot_decrypt_the_ticket(realm: Kdc) -> None:
    """Same key version, another key: MIT reports KRB_AP_ERR_BAD_INTEGRITY (31), where Windows
    says KRB_AP_ERR_MODIFIED (41) for the same fault; both mean "not the ASA's key"."""
    client = initiator(MAIL, from_keytab(realm), KERBEROS)
    error, answer = refusal(acceptor(realm, realm.foreign_keytab(MAIL)), client.step())
    assert (error.maj_code, error.min_code) == (GSS_S_FAILURE, KRB5_BASE + KRB_AP_ERR_BAD_INTEGRITY)
    assert "found in keytab but cannot decrypt ticket" in str(error)
    assert answer is not None
    assert krb_error_code(answer) == KRB_AP_ERR_BAD_INTEGRITY
    with pytest.raises(gssapi.exceptions.GSSError) as seen:
        client.step(answer)
    assert seen.value.min_code == KRB5_BASE + KRB_AP_ERR_BAD_INTEGRITY


def test_a_node_with_the_previous_key_version_says_its_keytab_is_out_of_date(realm: Kdc) -> None:
    client = initiator(MAIL, from_keytab(realm), KERBEROS)
    error, answer = refusal(acceptor(realm, realm.stale_keytab(MAIL)), client.step())
    assert error.min_code == KRB5_BASE + KRB_AP_ERR_BADKEYVER
    assert "keytab is likely out of date" in str(error)
    assert answer is not None
    assert krb_error_code(answer) == KRB_AP_ERR_BADKEYVER


def test_an_spn_unknown_to_the_kdc_fails_at_the_initiator(realm: Kdc) -> None:
    client = initiator(NO_SPN, from_keytab(realm), KERBEROS)
    with pytest.raises(gssapi.exceptions.GSSError) as caught:
        client.step()
    assert caught.value.min_code == KRB5_BASE + KDC_ERR_S_PRINCIPAL_UNKNOWN
    assert f"HTTP/{NO_SPN}@{realm.realm} not found in Kerberos database" in str(caught.value)


def test_another_certificate_in_the_bindings_is_refused_by_the_node(realm: Kdc) -> None:
    """An offloading device's certificate: GSS_S_BAD_BINDINGS at the node, which answers a
    generic KRB-ERROR (60) that names nothing."""
    client = initiator(MAIL, from_keytab(realm), KERBEROS, certificate=OTHER_CERTIFICATE)
    error, answer = refusal(acceptor(realm, realm.keytab(MAIL)), client.step())
    assert isinstance(error, gssapi.exceptions.BadChannelBindingsError)
    assert error.maj_code == GSS_S_BAD_BINDINGS
    assert answer is not None
    assert krb_error_code(answer) == KRB_ERR_GENERIC


def test_a_token_without_bindings_is_accepted_but_not_channel_bound(realm: Kdc) -> None:
    """MIT accepts an unbound token even where the acceptor gives bindings: a node playing
    Extended Protection "Require" must check the channel-bound flag itself."""
    client = initiator(MAIL, from_keytab(realm), KERBEROS, certificate=None)
    node = acceptor(realm, realm.keytab(MAIL))
    node.step(client.step())
    assert node.complete
    assert gssapi.RequirementFlag.channel_bound not in node.actual_flags


def test_a_stale_client_keytab_fails_preauthentication(realm: Kdc) -> None:
    with pytest.raises(gssapi.exceptions.GSSError) as caught:
        _ = from_keytab(realm, realm.stale_user_keytab, label="stale").lifetime
    assert (caught.value.maj_code, caught.value.min_code) == (
        GSS_S_NO_CRED,
        KRB5_BASE + KDC_ERR_PREAUTH_FAILED,
    )


def test_a_wrong_password_fails_preauthentication(realm: Kdc) -> None:
    """Asked for Kerberos alone: with SPNEGO among the mechanisms the minor code is renumbered."""
    with pytest.raises(gssapi.exceptions.GSSError) as caught:
        from_password(realm, realm.password + "x", mechs=(KERBEROS,))
    assert caught.value.min_code == KRB5_BASE + KDC_ERR_PREAUTH_FAILED


@pytest.mark.parametrize(
    ("offset", "code"),
    [(3600, KRB_AP_ERR_TKT_NYV), (-3600, KRB_AP_ERR_SKEW)],
    ids=["kdc-ahead", "kdc-behind"],
)
def test_a_node_an_hour_away_from_the_realm_refuses_the_ticket(
    requirements: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    offset: int,
    code: int,
) -> None:
    """The KDC's clock an hour off (libfaketime): the client adopts the KDC's time and gets its
    tickets; the node, on the real clock, refuses them."""
    if faketime_library() is None:
        missing(f"libfaketime.so.1 is not installed (Debian package {FAKETIME_PACKAGE})")
    with Kdc(tmp_path / "kdc", hosts=[MAIL], clock_offset=offset) as skewed:
        for name, value in skewed.env.items():
            monkeypatch.setenv(name, value)
        client = initiator(MAIL, from_keytab(skewed, label=f"skew{offset}"), KERBEROS)
        error, answer = refusal(acceptor(skewed, skewed.keytab(MAIL)), client.step())
    assert error.min_code == KRB5_BASE + code
    assert answer is not None
    assert krb_error_code(answer) == code


def test_a_restart_sets_the_clock_of_the_same_realm_on_the_same_port(
    requirements: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a lab changes at run time: the same database and keytabs, a clock an hour ahead."""
    if faketime_library() is None:
        missing(f"libfaketime.so.1 is not installed (Debian package {FAKETIME_PACKAGE})")
    with Kdc(tmp_path / "kdc", hosts=[MAIL]) as realm:
        for name, value in realm.env.items():
            monkeypatch.setenv(name, value)
        port, keytab = realm.port, realm.keytab(MAIL).read_bytes()
        realm.restart(clock_offset=3600)
        assert (realm.port, realm.keytab(MAIL).read_bytes()) == (port, keytab)
        client = initiator(MAIL, from_keytab(realm, label="restarted"), KERBEROS)
        error, _answer = refusal(acceptor(realm, realm.keytab(MAIL)), client.step())
    assert error.min_code == KRB5_BASE + KRB_AP_ERR_TKT_NYV


def test_a_closed_kdc_port_fails_with_kdc_unreachable(
    realm: Kdc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port(realm.address)
    config = realm.client_config(tmp_path / "krb5.conf", kdc=f"{realm.address}:{closed}")
    monkeypatch.setenv("KRB5_CONFIG", str(config))
    with pytest.raises(gssapi.exceptions.GSSError) as caught:
        _ = from_keytab(realm, label="closed").lifetime
    assert caught.value.min_code == KRB5_KDC_UNREACH
    assert f"Cannot contact any KDC for realm '{realm.realm}'" in str(caught.value)


def test_a_kdc_that_never_answers_is_given_up_within_the_deadline(
    realm: Kdc,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Any,
) -> None:
    """MIT 1.20 has no setting for this wait: the time is the library's own (recorded as the
    test's ``unanswered_seconds`` and ``attempts`` properties).  Measured on Debian 12: one AS
    exchange (``kinit``) sends over UDP at 0 s, TCP at 1 s, UDP at 13 s and 18 s and gives up at
    27 s; GSSAPI's acquisition from a client keytab makes two such exchanges, 54 s."""
    with SilentKdc(realm.address) as silent:
        config = realm.client_config(tmp_path / "krb5.conf", kdc=silent.kdc)
        monkeypatch.setenv("KRB5_CONFIG", str(config))
        outcome: list[BaseException] = []

        def acquire() -> None:
            try:
                _ = from_keytab(realm, label="silent").lifetime
            except BaseException as exc:  # handed to the test's thread
                outcome.append(exc)

        started = time.monotonic()
        worker = threading.Thread(target=acquire, daemon=True)
        worker.start()
        worker.join(UNANSWERED_DEADLINE)
        record_property("unanswered_seconds", round(time.monotonic() - started, 1))
        record_property("attempts", [(round(t, 1), kind) for t, kind in silent.arrivals])
        assert not worker.is_alive(), f"still waiting after {UNANSWERED_DEADLINE:.0f} s"
        assert silent.datagrams > 0
        assert silent.connections > 0
    assert len(outcome) == 1
    assert isinstance(outcome[0], gssapi.exceptions.GSSError)
    assert outcome[0].min_code == KRB5_KDC_UNREACH


def test_stop_leaves_no_process_and_frees_the_port(programs: None, tmp_path: Path) -> None:
    realm = Kdc(tmp_path / "kdc", hosts=[MAIL]).start()
    pid, port = realm.pid, realm.port
    assert pid is not None
    realm.stop()
    assert not Path(f"/proc/{pid}").exists()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((realm.address, port))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind((realm.address, port))


def test_a_new_realm_in_an_old_workdir_has_its_own_keys(
    requirements: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workdir left by an earlier run: its database is replaced, the new password holds."""
    Kdc(tmp_path / "kdc", hosts=[MAIL]).start().stop()
    with Kdc(tmp_path / "kdc", hosts=[MAIL]) as realm:
        for name, value in realm.env.items():
            monkeypatch.setenv(name, value)
        logon(realm, from_password(realm, realm.password), KERBEROS)


# -- the lab's acceptor (contrib/lab/identities/kerberos.py) ----------------------------------


def lab_node(kdc: Kdc, keytab: Path, protection: str, name: str = "node") -> KerberosAcceptor:
    return KerberosAcceptor(keytab, kdc.workdir / "rcache" / f"{name}.rcache2", protection)


def application_data(certificate: bytes) -> bytes:
    return b"tls-server-end-point:" + hashlib.sha256(certificate).digest()


def test_the_lab_node_accepts_a_bound_ticket_and_answers_mutual_authentication(
    realm: Kdc,
) -> None:
    client = initiator(MAIL, from_keytab(realm), SPNEGO)
    node = lab_node(realm, realm.keytab(MAIL), "require")
    result = node.accept(client.step(), application_data(CERTIFICATE))
    assert (result.accepted, result.principal, result.mechanism, result.channel_bound) == (
        True,
        realm.user,
        "spnego",
        True,
    )
    assert result.answer is not None
    client.step(result.answer)
    assert client.complete


def test_the_lab_node_with_another_key_answers_mits_krb_error(realm: Kdc) -> None:
    client = initiator(MAIL, from_keytab(realm), KERBEROS)
    node = lab_node(realm, realm.foreign_keytab(MAIL), "off")
    result = node.accept(client.step())
    assert not result.accepted
    assert result.mechanism == "kerberos"
    assert "cannot decrypt ticket" in result.reason
    assert result.answer is not None
    assert krb_error_code(result.answer) == KRB_AP_ERR_BAD_INTEGRITY


@pytest.mark.parametrize(
    ("protection", "client_certificate", "accepted"),
    [
        ("off", OTHER_CERTIFICATE, True),
        ("on", OTHER_CERTIFICATE, False),
        ("on", None, True),
        ("require", None, False),
        ("require", OTHER_CERTIFICATE, False),
    ],
    ids=["off-other", "on-other", "on-unbound", "require-unbound", "require-other"],
)
def test_the_lab_node_plays_extended_protection(
    realm: Kdc, protection: str, client_certificate: bytes | None, accepted: bool
) -> None:
    client = initiator(MAIL, from_keytab(realm), KERBEROS, certificate=client_certificate)
    node = lab_node(realm, realm.keytab(MAIL), protection)
    result = node.accept(client.step(), application_data(CERTIFICATE))
    assert result.accepted is accepted, result.reason


def test_the_lab_node_refuses_a_replayed_token(realm: Kdc) -> None:
    client = initiator(MAIL, from_keytab(realm), KERBEROS)
    token = client.step()
    node = lab_node(realm, realm.keytab(MAIL), "off", name="replay")
    assert node.accept(token).accepted
    again = node.accept(token)
    assert not again.accepted
    assert again.answer is not None
    assert krb_error_code(again.answer) == KRB_AP_ERR_REPEAT
    assert node.rcache.exists()


def test_the_lab_node_tells_an_ntlm_token_from_a_kerberos_one(realm: Kdc) -> None:
    import spnego

    ntlm = spnego.client("monitor", "password", protocol="ntlm").step()
    assert ntlm is not None
    result = lab_node(realm, realm.keytab(MAIL), "off").accept(ntlm)
    assert (result.accepted, result.mechanism, result.answer) == (False, "ntlm", None)
    assert token_kind(initiator(MAIL, from_keytab(realm), KERBEROS).step()) == "kerberos"


def test_the_kdc_ends_with_a_process_killed_without_stopping_it(
    programs: None, tmp_path: Path
) -> None:
    """A test runner killed by SIGKILL leaves no KDC behind."""
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from contrib.lab.identities.kdc import Kdc; "
            "k = Kdc(sys.argv[1], hosts=['mail.contoso.test']).start(); "
            "print(k.pid, flush=True); time.sleep(120)",
            str(tmp_path / "kdc"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert starter.stdout is not None
        pid = int(starter.stdout.readline())
        assert Path(f"/proc/{pid}").exists()
    finally:
        starter.kill()
        starter.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), f"krb5kdc {pid} outlived the process that started it"
