"""The Autodiscover request: what to look up (the mailbox, the credentials, what the check asks
for), where (an endpoint's https URL, and how a URL is shown) and the POST body that asks.

Plain classes, no I/O: :mod:`.lookup` walks the endpoints with them.
"""

from __future__ import annotations

from ..transport import wire_text
from ..transport.url import split

PATH = "/autodiscover/autodiscover.xml"
HTTPS_PORT = 443
HTTP_PORT = 80
USER_AGENT = "check_outlook_anywhere"
REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


class Credentials:
    __slots__ = ("kerberos", "mode", "password", "username")

    def __init__(
        self, username: str, password: str, mode: str = "negotiate", kerberos: object = None
    ) -> None:
        self.username = username  # "": follow the mailbox address
        self.password = password
        self.mode = mode  # --auth
        self.kerberos = kerberos  # a transport.kerberos.Client when a credential is at hand

    def __repr__(self) -> str:  # never the password
        return f"Credentials({self.username!r}, ...)"


class Request:
    """What to look up (plain classes here: ``dataclasses`` costs start-up, see facts.http)."""

    __slots__ = ("ca_file", "credentials", "dns_server", "email", "mapi", "port", "rpc", "url")

    def __init__(
        self,
        email: str,
        url: str | None,  # --autodiscover-url
        credentials: Credentials,
        ca_file: str | None,
        dns_server: tuple[str, int] | None,
        port: int | None = None,  # --autodiscover-port: the standard lookup's ports (a lab)
        mapi: bool = False,  # --mapi: ask for the mapiHttp block too
        rpc: bool = False,  # --rpc: the EXCH and EXPR blocks are needed as well
    ) -> None:
        self.email = email
        self.url = url
        self.credentials = credentials
        self.ca_file = ca_file
        self.dns_server = dns_server
        self.port = port
        self.mapi = mapi
        self.rpc = rpc


class Url:
    __slots__ = ("host", "path", "port")

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host = host
        self.port = port
        self.path = path

    @property
    def text(self) -> str:
        port = "" if self.port == HTTPS_PORT else f":{self.port}"
        return f"https://{self.host}{port}{self.path}"


def split_https(url: str) -> Url:
    """An https URL as host, port and path; raise ValueError for anything else."""
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise ValueError("contains white space or control characters")
    parts = split(url)
    if parts.scheme != "https":
        raise ValueError("not an https URL")
    if parts.userinfo:
        raise ValueError("user information in the URL")
    host = parts.host
    if not host:
        raise ValueError("no host name")
    port = parts.port or HTTPS_PORT
    path = parts.path or PATH
    if parts.query:
        path += "?" + parts.query
    return Url(host, port, path)


def shown(url: str) -> str:
    """A URL fit for output: printable, bounded, without user information (not concealed here:
    most URLs are the plugin's own; ``Lookup._shown`` hides the password in servers' ones)."""
    text = wire_text(url, 200, hide=False)
    if "@" in text.split("/", 3)[2 if "//" in text else 0]:
        return "(a URL with user information)"
    return text


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().rstrip(".").lower()


def _xml_text(value: str) -> str:
    """``value`` as XML character data: what ``xml.sax.saxutils.escape`` does, without the
    ``urllib.request``, ``http.client`` and ``email`` modules importing it loads (50 ms)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def request_body(email: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        f'<Autodiscover xmlns="{REQUEST_SCHEMA}">\r\n'
        "  <Request>\r\n"
        f"    <EMailAddress>{_xml_text(email)}</EMailAddress>\r\n"
        f"    <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\r\n"
        "  </Request>\r\n"
        "</Autodiscover>\r\n"
    ).encode()
