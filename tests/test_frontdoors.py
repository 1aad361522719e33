"""--auth-certificate, --health and --build against the lab's fd- arrays
(contrib/lab/endpoints/frontdoors.py), through the command line: three nodes each, the second one
differing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.conftest import Outcome, run_plugin, run_with_peak_memory
from tests.contract import assert_contract

ALL = ("--auth-certificate", "--health", "--build")
NODE2 = re.compile(r" - (127\.0\.205\.\d+): ")


@pytest.fixture(autouse=True)
def fresh(lab: Lab) -> Iterator[None]:
    lab.frontdoors.load_zone()
    lab.frontdoors.clear()
    yield


def args(lab: Lab, name: str) -> list[str]:
    return [
        "-H", f"{name}.contoso.test",
        "-p", str(lab.frontdoors.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
    ]  # fmt: skip


def doors(lab: Lab, name: str, *extra: str) -> Outcome:
    return run_plugin(*args(lab, name), *extra)


def second(lab: Lab, name: str) -> str:
    return lab.frontdoors.addresses(name)[1]


def clean(out: Outcome) -> None:
    """One status line within 200 characters, no ';', nothing on stderr, no traceback."""
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def line_of(out: Outcome, address: str) -> str:
    return next(line for line in out.long_output if line.startswith(address + " "))


# -- every state row, on a three-node array whose second node differs ------------------------

ROWS = [
    # (array, exit code, what the first line says after "<node 2>: ")
    ("fd-expiring", 1, "Exchange Auth certificate expires in 45.0 days"),
    ("fd-expiring-critical", 2, "Exchange Auth certificate expires in 20.0 days"),
    ("fd-expired", 2, "Exchange Auth certificate expired 3.0 days ago"),
    ("fd-other", 1, "publishes another Exchange Auth certificate than the 2 other nodes"),
    ("fd-missing", 1, "Auth metadata answered 500 Internal Server Error"),
    ("fd-login", 1, "Auth metadata answered a login page (HTML) instead of the JSON document"),
    ("fd-unauthorized", 1, "Auth metadata answered 401: anonymous access refused"),
    ("fd-no-key", 1, "Auth metadata publishes no x509Certificate signing key"),
    ("fd-health-one", 2, "ews is down: /ews/healthcheck.htm answered 503 Service Unavailable"),
    ("fd-behind", 1, "build 15.2.1544.11 (Exchange 2019) is behind 15.2.1544.14 of 2 other nodes"),
    ("fd-no-build", 1, "build not read: GET /owa/ answered 302 Found without X-OWA-Version"),
]


@pytest.mark.parametrize(("name", "code", "said"), ROWS, ids=[r[0] for r in ROWS])
def test_a_state_row_names_the_node_that_differs(lab: Lab, name: str, code: int, said: str) -> None:
    out = doors(lab, name, *ALL)
    clean(out)
    assert out.code == code, out.stdout
    state = {1: "WARNING", 2: "CRITICAL"}[code]
    assert out.status.startswith(f"OUTLOOK_ANYWHERE {state} - {second(lab, name)}: {said}")
    assert out.status.endswith("[2/3 nodes OK]"), out.status
    first, _, third = lab.frontdoors.addresses(name)
    assert line_of(out, first).startswith(f"{first} OK -- ")
    assert line_of(out, third).startswith(f"{third} OK -- ")
    assert line_of(out, second(lab, name)).startswith(f"{second(lab, name)} {state}: ")


def test_healthy_array_is_ok_with_every_front_door_said(lab: Lab) -> None:
    out = doors(lab, "fd-ok", *ALL)
    clean(out)
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK: ")
    assert "Auth certificate 1426.0 days left" in out.status
    assert out.perfdata["auth_days_left"] == "1426.0;60:;30:"
    assert out.perfdata["health_ok"] == "15;;;0;15"
    assert out.perfdata["health_checked"] == "15;;;0"
    thumbprint = lab.frontdoors.thumbprint("current")
    for address in lab.frontdoors.addresses("fd-ok"):
        line = line_of(out, address)
        assert f"thumbprint {thumbprint}" in line
        assert "healthcheck.htm 200 for 5/5 (autodiscover, ews, oab, rpc, mapi)" in line
        assert re.search(r"server EX\d\d\.contoso\.test", line), line
        assert "build 15.2.1544.14 (Exchange 2019)" in line


def test_no_node_with_the_metadata_is_critical(lab: Lab) -> None:
    out = doors(lab, "fd-nowhere", "--auth-certificate")
    clean(out)
    assert out.code == 2, out.stdout
    first = lab.frontdoors.addresses("fd-nowhere")[0]
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {first}: Auth metadata answered 404 Not Found, no node"
        " publishes the Exchange Auth certificate (+2 more) [0/3 nodes OK]"
    )
    assert "auth_days_left" not in out.perfdata  # not measured: left out, never U


def test_a_protocol_down_everywhere_is_said_once(lab: Lab) -> None:
    out = doors(lab, "fd-health-all", "--health")
    clean(out)
    assert out.code == 2, out.stdout
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - mapi is down on every node (3): /mapi/healthcheck.htm"
        " answered 503 Service Unavailable [0/3 nodes OK]"
    )
    assert out.perfdata["health_ok"] == "12;;;0;15"
    for address in lab.frontdoors.addresses("fd-health-all"):
        assert line_of(out, address).startswith(f"{address} CRITICAL: mapi is down on every")


def test_several_signing_keys_are_said_and_the_last_to_expire_is_judged(lab: Lab) -> None:
    out = doors(lab, "fd-next", "--auth-certificate")
    clean(out)
    assert out.code == 0, out.stdout
    assert out.perfdata["auth_days_left"] == "1825.0;60:;30:"
    line = line_of(out, lab.frontdoors.addresses("fd-next")[0])
    assert f"thumbprint {lab.frontdoors.thumbprint('next')}" in line
    assert "2 signing keys published" in line


def test_the_other_certificate_is_named_by_thumbprint(lab: Lab) -> None:
    out = doors(lab, "fd-other", "--auth-certificate")
    line = line_of(out, second(lab, "fd-other"))
    theirs, ours = lab.frontdoors.thumbprint("current"), lab.frontdoors.thumbprint("other")
    assert f"(thumbprint {ours}, theirs {theirs})" in line, line


@pytest.mark.parametrize(
    ("option", "code", "state"),
    [("--min-build", 1, "WARNING"), ("--min-build-critical", 2, "CRITICAL")],
)
def test_a_build_below_the_floor(lab: Lab, option: str, code: int, state: str) -> None:
    out = doors(lab, "fd-behind", "--build", option, "15.2.1544.13")
    clean(out)
    assert out.code == code, out.stdout
    node = second(lab, "fd-behind")
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE {state} - {node}: build 15.2.1544.11 (Exchange 2019) is below"
        f" {option} 15.2.1544.13"
    ), out.status
    assert out.status.endswith("(+1 more) [2/3 nodes OK]")  # behind the others as well


def test_builds_compare_numerically(lab: Lab) -> None:
    out = doors(lab, "fd-ok", "--build", "--min-build", "15.2.999.0")  # 1544 > 999
    assert out.code == 0, out.stdout


def test_subscription_edition_is_recognised(lab: Lab) -> None:
    out = doors(lab, "fd-se", "--build")
    assert out.code == 0, out.stdout
    assert "build 15.2.2562.17 (Exchange Server Subscription Edition)" in out.status


def test_the_metadata_is_asked_of_the_autodiscover_url_host(lab: Lab, password_file: str) -> None:
    """--autodiscover-url's host is the metadata's Host and SNI; the nodes are still -H's."""
    url = f"https://autodiscover.contoso.test:{lab.web.port}/autodiscover/autodiscover.xml"
    out = doors(lab, "fd-ok", "--auth-certificate", "--autodiscover", "monitor@contoso.test",
                "--autodiscover-url", url, "--password-file", password_file)  # fmt: skip
    clean(out)
    seen = lab.frontdoors.requests(path="/autodiscover/metadata/json/1")
    assert sorted(s.address for s in seen) == lab.frontdoors.addresses("fd-ok")
    assert {(s.host, s.sni) for s in seen} == {("autodiscover.contoso.test",) * 2}
    assert "auth_days_left" in out.perfdata, out.stdout


def test_auth_thresholds_are_their_own(lab: Lab) -> None:
    out = doors(lab, "fd-ok", "--auth-certificate", "--auth-warning", "1500")
    assert out.code == 1, out.stdout
    assert "Exchange Auth certificate expires in 1426.0 days" in out.status
    out = doors(lab, "fd-ok", "--auth-certificate", "--auth-critical", "@1000:2000",
                "--auth-warning", "10")  # fmt: skip
    assert out.code == 2, out.stdout
    assert "1426.0 days left, inside the critical range @1000:2000" in out.status


# -- hostile bodies: one clear line each, bounded in memory and time -------------------------

HOSTILE = [
    ("fd-huge", r"Auth metadata not read: response body over 1 MiB"),
    ("fd-malformed", r"Auth metadata is not JSON \(Expecting property name .*"),
    ("fd-deep", r"Auth metadata is nested more than 16 levels deep: not read"),
    ("fd-bomb", r"Auth metadata is not JSON \(a number of more than 4300 digits\)"),
    ("fd-base64", r"Auth metadata publishes a signing key whose certificate is not valid base64"),
    (
        "fd-bad-cert",
        r"Auth metadata publishes a signing key whose certificate does not parse \(not a DER"
        r" X\.509 certificate\)",
    ),
    ("fd-endless", r"Auth metadata not read: no answer in time"),
    ("fd-health-huge", r"ews is down: /ews/healthcheck\.htm not read: response body over 1 MiB"),
]


@pytest.mark.parametrize(("name", "said"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_body_is_one_clear_line(lab: Lab, name: str, said: str) -> None:
    out, peak_kib = run_with_peak_memory(*args(lab, name), *ALL, "-t", "3")
    clean(out)
    assert_contract(out, 3)
    node = second(lab, name)
    state = "CRITICAL" if "health" in name else "WARNING"
    assert re.fullmatch(
        rf"OUTLOOK_ANYWHERE {state} - {re.escape(node)}: {said} \[2/3 nodes OK\]", out.status
    ), out.status
    assert out.elapsed < 4.5, out.elapsed  # -t 3
    # a check takes about 30 MiB; a body read whole (64 MiB) would take it far past this
    assert 0 < peak_kib < 64 * 1024, f"{peak_kib} KiB"


# -- what is asked, and only that --------------------------------------------------------------


def test_nothing_is_requested_without_the_options(lab: Lab) -> None:
    out = doors(lab, "fd-ok")
    assert out.code == 0, out.stdout
    assert lab.frontdoors.requests() == []
    assert "auth_days_left" not in out.perfdata and "health_ok" not in out.perfdata


def test_only_the_listed_pages_are_requested_with_the_namespace(lab: Lab) -> None:
    out = doors(lab, "fd-ok", "--health", "EWS,mapi")
    assert out.code == 0, out.stdout
    seen = lab.frontdoors.requests()
    asked = sorted((s.address, s.path) for s in seen)
    nodes = lab.frontdoors.addresses("fd-ok")
    assert asked == sorted(
        (a, p) for a in nodes for p in ("/ews/healthcheck.htm", "/mapi/healthcheck.htm")
    )
    assert {(s.host, s.sni, s.method) for s in seen} == {("fd-ok.contoso.test",) * 2 + ("GET",)}
    assert out.perfdata["health_checked"] == "6;;;0"


def test_health_all_and_one_connection_per_node(lab: Lab) -> None:
    out = doors(lab, "fd-ok", *ALL, "--health", "all")
    assert out.code == 0, out.stdout
    assert out.perfdata["health_checked"] == "24;;;0"
    for address in lab.frontdoors.addresses("fd-ok"):
        paths = [s.path for s in lab.frontdoors.requests(address=address)]
        assert len(paths) == 10 and paths[0] == "/autodiscover/metadata/json/1", paths
        assert "/Microsoft-Server-ActiveSync/healthcheck.htm" in paths and paths[-1] == "/owa/"
        assert lab.frontdoors.connections(address) == 1


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--auth-warning", "40"), "--auth-warning needs --auth-certificate"),
        (("--min-build", "15.2.1544.4"), "--min-build needs --build"),
        (("--build", "--min-build", "15.2.x"), "'15.2.x' is not a build number"),
        (("--health", "ews,smtp"), "--health: 'ews,smtp': not a list of autodiscover"),
        (("--health", ""), "empty value"),
        (("--auth-certificate", "--auth-warning", "10", "--auth-critical", "20"),
         "--auth-warning 10 is below --auth-critical 20"),
        (("--build", "--min-build", "15.1", "--min-build-critical", "15.2"),
         "--min-build-critical 15.2 is above --min-build 15.1"),
    ],
)  # fmt: skip
def test_a_configuration_mistake_is_unknown_naming_the_option(
    lab: Lab, extra: tuple[str, ...], said: str
) -> None:
    out = doors(lab, "fd-ok", *extra)
    assert out.code == 3, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE UNKNOWN - ") and said in out.status, out.status
    assert lab.frontdoors.requests() == []
