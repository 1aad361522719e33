"""The lab's Autodiscover answers: the POX document a mailbox's request is answered with.

The answer is chosen by the mailbox's local part (``none@contoso.test`` publishes
``CertPrincipalName`` None, see :data:`MAILBOXES`): settings, redirects (by address, by URL, by
HTTP), errors, and the hostile documents (entity expansion, an external entity, a body that
never ends or drips).  The mailboxes ``logon-*@contoso.test`` publish the Exchange front ends of
:mod:`.logon_hosts` (:func:`protocols`).  Which sites answer, and who may ask, is the web side's
(:mod:`.web`, :mod:`.logon`).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..identities.accounts import PASSWORD
from ..network.http11 import Response
from .logon_hosts import DOMAIN, exchange_server, legacy_dn
from .logon_hosts import MAILBOXES as LOGON_MAILBOXES
from .site import Site

PATH = "/autodiscover/autodiscover.xml"
XXE_MARKER = "LAB-XXE-MARKER root:x:0:0:root:/root:/bin/bash"
"""The content of the local file the external-entity document points at."""

RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

MAILBOXES = {
    "monitor": "settings: EXPR and EXHTTP Server healthy.contoso.test, CertPrincipalName matches",
    "absent": "settings: EXPR without CertPrincipalName (clients use msstd:<Server>)",
    "none": "settings: CertPrincipalName None (no pinning)",
    "noexpr": "settings without an EXPR provider",
    "wrong": "settings: CertPrincipalName msstd:owa.contoso.test (not the certificate's CN)",
    "error600": "error response 600 Invalid Request",
    "redirect-addr": "redirectAddr to monitor@fabrikam.test",
    "redirect-url": "redirectUrl to https://autodiscover.fabrikam.test",
    "redirect-http-url": "redirectUrl to a plain http URL",
    "redirect-untrusted": "redirectUrl to https://tailspin.test (certificate for another name)",
    "http-302": "HTTP 302 to https://autodiscover.fabrikam.test",
    "loop": "redirectAddr to loop2@, which redirects back to loop@",
    "url-loop": "redirectUrl to the URL that answered it",
    "hops-N-K": "redirectAddr to hops-N-(K+1)@ until K = N, then settings",
    "billion": "an entity-expansion ('billion laughs') document",
    "xxe": "an external entity pointing at a local file",
    "huge": "64 MiB of chunked body",
    "drip": "the body one byte every 0.2 s",
    "invalid": "invalid XML",
    "wrong-ns": "a root element in another namespace",
    "exhttp": "settings: EXHTTP only (Exchange 2013+), CertPrincipalName matches",
    "ssl-off": "settings: EXPR and EXHTTP with SSL Off",
    "echo": "error response whose message echoes the password in every encoding",
    "echo-reason": "HTTP 500 whose reason phrase echoes the URL-encoded password",
    "markup": "settings whose Server holds HTML (an image): no host name, the document unusable",
    "markup-principal": "settings whose CertPrincipalName holds HTML (a link)",
    "markup-reason": "HTTP 500 with HTML in its reason phrase",
    **LOGON_MAILBOXES,
}


# The mailboxes that redirect do so only on the contoso.test endpoints.
REDIRECTING = ("redirect-url", "redirect-http-url", "redirect-untrusted", "http-302")
REDIRECTORS = ("contoso.test", "autodiscover.contoso.test")


_MAILBOX = re.compile(rb"<EMailAddress>([^<]{1,320})</EMailAddress>")


def requested_mailbox(body: bytes) -> str:
    """The ``EMailAddress`` of an Autodiscover request's body ("" without one)."""
    found = _MAILBOX.search(body)
    return found.group(1).decode("utf-8", "replace") if found else ""


def _url(port: int, host: str) -> str:
    return f"https://{host}:{port}{PATH}"


def answer(site: Site, mailbox: str, mapi_capability: bool, port: int, xxe_file: Path) -> Response:
    """The answer to an authenticated POST of ``mailbox``'s request to ``site``."""
    local, _, domain = mailbox.partition("@")
    local = local.lower()
    if local in LOGON_MAILBOXES:
        host = f"{local}.{DOMAIN}"
        inner = protocols(host, port, mapi_capability)
        body_xml = _account(
            f"<AccountType>email</AccountType><Action>settings</Action>{inner}",
            legacy_dn(host),
        )
        return Response(200, "OK", [("Content-Type", "text/xml; charset=utf-8")], body_xml)
    if local in REDIRECTING and site.host not in REDIRECTORS:
        local = "monitor"  # the redirect's target answers with settings
    good = ("healthy.contoso.test", "msstd:healthy.contoso.test")
    fabrikam = _url(port, "autodiscover.fabrikam.test")
    body: bytes | Iterable[bytes]
    if local == "absent":
        body = _settings(good[0], None)
    elif local == "none":
        body = _settings(good[0], "None")
    elif local == "noexpr":
        body = _account(
            "<AccountType>email</AccountType><Action>settings</Action>"
            "<Protocol><Type>EXCH</Type><Server>5f2c@contoso.test</Server></Protocol>"
            "<Protocol><Type>WEB</Type></Protocol>"
        )
    elif local == "wrong":
        body = _settings(good[0], "msstd:owa.contoso.test")
    elif local == "exhttp":
        body = _settings(*good).replace(
            b"<Protocol><Type>EXPR</Type>", b"<Protocol><Type>EXPR-REMOVED</Type>"
        )
    elif local == "ssl-off":
        body = _settings(*good).replace(b"<SSL>On</SSL>", b"<SSL>Off</SSL>")
    elif local == "echo":
        body = _echo_error()
    elif local == "echo-reason":
        from urllib.parse import quote

        return Response(500, f"Failed for {quote(PASSWORD, safe='')}", [], b"")
    elif local == "markup":  # escaped in the XML, so the parsed values hold the markup
        from xml.sax.saxutils import escape

        from ..identities.hostile_certificates import MARKUP_CN, MARKUP_SANS

        body = _settings(escape(MARKUP_CN), escape(f"msstd:{MARKUP_SANS[0]}"))
    elif local == "markup-principal":
        from xml.sax.saxutils import escape

        from ..identities.hostile_certificates import MARKUP_SANS

        body = _settings(good[0], escape(f"msstd:{MARKUP_SANS[0]}"))
    elif local == "markup-reason":
        from .hostile_servers import MARKUP_REASON

        return Response(500, MARKUP_REASON, [], b"")
    elif local == "error600":
        body = ERROR_600
    elif local == "redirect-addr":
        body = _redirect("redirectAddr", "monitor@fabrikam.test")
    elif local == "redirect-url":
        body = _redirect("redirectUrl", fabrikam)
    elif local == "redirect-http-url":
        body = _redirect("redirectUrl", fabrikam.replace("https://", "http://"))
    elif local == "redirect-untrusted":
        body = _redirect("redirectUrl", _url(port, "tailspin.test"))
    elif local == "http-302":
        return Response(302, "Found", [("Location", fabrikam)], b"")
    elif local == "loop":
        body = _redirect("redirectAddr", f"loop2@{domain}")
    elif local == "loop2":
        body = _redirect("redirectAddr", f"loop@{domain}")
    elif local == "url-loop":
        body = _redirect("redirectUrl", _url(port, "autodiscover.contoso.test"))
    elif local.startswith("hops-"):
        _, total, k = local.split("-")
        if int(k) < int(total):
            body = _redirect("redirectAddr", f"hops-{total}-{int(k) + 1}@{domain}")
        else:
            body = _settings(*good)
    elif local == "billion":
        body = BILLION_LAUGHS
    elif local == "xxe":
        body = _xxe(xxe_file)
    elif local == "huge":
        body = _huge()
    elif local == "drip":
        body = _drip()
    elif local == "invalid":
        body = b"<?xml version='1.0'?><Autodiscover xmlns='" + RESPONSE_NS.encode() + b"'><Res"
    elif local == "wrong-ns":
        body = _settings(*good).replace(RESPONSE_NS.encode(), b"urn:example:not-autodiscover")
    else:
        body = _settings(*good)
    return Response(200, "OK", [("Content-Type", "text/xml; charset=utf-8")], body)


def protocols(host: str, port: int, mapi_capability: bool) -> str:
    """The Autodiscover ``Protocol`` blocks of ``host``'s mailbox.  Asked with
    ``X-MapiHttpCapability: 1``: mapiHttp, EXHTTP and WEB, never EXCH or EXPR ([MS-OXDSCLI]
    3.2.5.1, "MUST NOT"; example 4.4); asked without it: EXCH, EXPR, EXHTTP and WEB."""
    package = "Basic" if host == "logon-basic." + DOMAIN else "Ntlm"
    proxy = (
        f"<Server>{host}</Server><SSL>On</SSL><AuthPackage>{package}</AuthPackage>"
        f"<CertPrincipalName>msstd:{host}</CertPrincipalName>"
    )
    server = exchange_server(host)
    exhttp = f'<Protocol Type="EXHTTP"><Type>EXHTTP</Type>{proxy}</Protocol>'
    web = "<Protocol><Type>WEB</Type></Protocol>"
    blocks = [
        f"<Protocol><Type>EXCH</Type><Server>{server}</Server>"
        f"<ServerDN>/o=Contoso/ou=Exchange Administrative Group/cn=Configuration/cn=Servers/"
        f"cn={server}</ServerDN><AuthPackage>Anonymous</AuthPackage></Protocol>",
        f"<Protocol><Type>EXPR</Type>{proxy}</Protocol>",
        exhttp,
        web,
    ]
    if mapi_capability:
        blocks = [exhttp, web]
        base = f"https://{host}:{port}/mapi"
        store = f"{base}/emsmdb/?MailboxId={server}"
        book = f"{base}/nspi/?MailboxId={server}"
        blocks.insert(
            0,
            '<Protocol Type="mapiHttp" Version="1">'
            f"<MailStore><InternalUrl>{store}</InternalUrl><ExternalUrl>{store}</ExternalUrl>"
            f"</MailStore><AddressBook><InternalUrl>{book}</InternalUrl>"
            f"<ExternalUrl>{book}</ExternalUrl></AddressBook></Protocol>",
        )
    return "".join(blocks)


def _settings(server: str, principal: str | None, exhttp: bool = True) -> bytes:
    cpn = "" if principal is None else f"<CertPrincipalName>{principal}</CertPrincipalName>"
    blocks = [
        "<Protocol><Type>EXCH</Type><Server>5f2c@contoso.test</Server></Protocol>",
        f"<Protocol><Type>EXPR</Type><Server>{server}</Server><SSL>On</SSL>"
        f"<AuthPackage>Ntlm</AuthPackage>{cpn}</Protocol>",
    ]
    if exhttp:
        blocks.append(
            f'<Protocol Type="EXHTTP"><Type>EXHTTP</Type><Server>{server}</Server><SSL>On</SSL>'
            f"<AuthPackage>Ntlm</AuthPackage>{cpn}</Protocol>"
        )
    return _account("<AccountType>email</AccountType><Action>settings</Action>" + "".join(blocks))


def _echo_error() -> bytes:
    """An error document that repeats the password the way a careless server might."""
    from urllib.parse import quote

    raw = PASSWORD.encode()
    forms = [
        PASSWORD,
        quote(PASSWORD, safe=""),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        raw.hex(),
        PASSWORD.encode("utf-16-le").hex(),
    ]
    message = " / ".join(forms).replace("&", "&amp;").replace("<", "&lt;")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response>'
        f"<Error><ErrorCode>500</ErrorCode><Message>{message}</Message></Error></Response>"
        "</Autodiscover>"
    ).encode()


def _account(inner: str, legacy_dn: str = "") -> bytes:
    dn = f"<LegacyDN>{legacy_dn}</LegacyDN>" if legacy_dn else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="{RESPONSE_NS}">'
        f'<Response xmlns="{OUTLOOK_NS}"><User><DisplayName>Monitor</DisplayName>{dn}</User>'
        f"<Account>{inner}</Account></Response></Autodiscover>"
    ).encode()


def _redirect(action: str, value: str) -> bytes:
    tag = "RedirectAddr" if action == "redirectAddr" else "RedirectUrl"
    return _account(
        f"<AccountType>email</AccountType><Action>{action}</Action><{tag}>{value}</{tag}>"
    )


ERROR_600 = (
    f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}"><Response>'
    '<Error Time="12:00:00.0000000" Id="2477"><ErrorCode>600</ErrorCode>'
    "<Message>Invalid Request</Message><DebugData /></Error></Response></Autodiscover>"
).encode()

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + f']>\n<Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_NS}"><Account>'
    "<Action>settings</Action><Protocol><Type>EXPR</Type><Server>&lol9;</Server></Protocol>"
    "</Account></Response></Autodiscover>"
).encode()


def _xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE a [ <!ENTITY xxe SYSTEM "file://{path}"> ]>\n'
        f'<Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_NS}"><Account>'
        "<Action>settings</Action><Protocol><Type>EXPR</Type><Server>&xxe;</Server>"
        "<CertPrincipalName>&xxe;</CertPrincipalName></Protocol>"
        "</Account></Response></Autodiscover>"
    ).encode()


def _huge() -> Iterator[bytes]:
    chunk = b"<a>" + b"x" * 65530 + b"</a>"
    yield b"<?xml version='1.0'?><Autodiscover xmlns='" + RESPONSE_NS.encode() + b"'>"
    for _ in range(1024):  # 64 MiB
        yield chunk


def _drip() -> Iterator[bytes]:
    for byte in _settings("healthy.contoso.test", "msstd:healthy.contoso.test"):
        time.sleep(0.2)
        yield bytes([byte])
