"""Target addresses on the paths the scenarios do not take: a name that exists with neither an A
nor an AAAA record (through the lab's DNS server, the plugin as a process), a host that is an
address already (Autodiscover and revocation URLs may name one), and a deadline spent before the
first query (in-process, against the lab's DNS server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from outlook_anywhere.facts import Resolution
from outlook_anywhere.probes import addresses
from outlook_anywhere.transport import Deadline
from tests.conftest import run_plugin

NO_ADDRESS = "no-address.paths.contoso.test"


def facts(found: Resolution) -> tuple[tuple[str, ...], str, str, str]:
    return found.addresses, found.source, found.failure, found.detail


def lab_server(lab: Lab) -> tuple[str, int]:
    return lab.dns.address, lab.dns.port


@pytest.fixture
def txt_only(lab: Lab) -> Iterator[str]:
    """A name the zone holds with a TXT record only: it exists (NOERROR), no address."""
    lab.dns.set_records(NO_ADDRESS, "TXT", ['"v=none"'])
    yield NO_ADDRESS
    lab.dns.set_records(NO_ADDRESS, "TXT", [])


def test_a_name_with_neither_a_nor_aaaa_is_critical_with_that_reason(
    lab: Lab, txt_only: str
) -> None:
    """Both families asked, both empty: not "no such name", not one family missing."""
    out = run_plugin("-H", txt_only, "--dns-server", lab.dns_server)
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {txt_only}: the name has no A or AAAA address"
        f" (DNS server {lab.dns_server})"
    )


@pytest.mark.parametrize(
    ("host", "ipv4", "ipv6", "expected"),
    [
        ("127.0.0.1", False, False, (("127.0.0.1",), "literal", "", "")),
        ("2001:DB8:0::1", False, False, (("2001:db8::1",), "literal", "", "")),  # canonical
        ("2001:db8::1", True, False, ((), "literal", "excluded", "")),  # -4 leaves nothing
    ],
)
def test_an_address_as_host_is_its_own_resolution(
    lab: Lab, host: str, ipv4: bool, ipv6: bool, expected: tuple[object, ...]
) -> None:
    """Never sent to the DNS server, whichever is configured."""
    asked = lab.dns.queries
    found = addresses.resolve(host, Deadline(5), ipv4, ipv6, lab_server(lab))
    assert facts(found) == expected
    assert lab.dns.queries == asked


def test_a_deadline_spent_before_the_first_query_is_a_timeout_of_that_type(lab: Lab) -> None:
    """What is left of the deadline is read before each query: none left, none sent."""
    asked = lab.dns.queries
    spent = Deadline(0, reserve=0)
    found = addresses.resolve("healthy.contoso.test", spent, True, False, lab_server(lab))
    assert facts(found) == ((), f"DNS server {lab.dns_server}", "timeout", "A")
    assert lab.dns.queries == asked
