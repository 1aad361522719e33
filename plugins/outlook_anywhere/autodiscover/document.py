"""The Autodiscover (POX) response document, read with a hardened parser into plain data.

The document comes from the network, so ``defusedxml`` parses it with DTDs forbidden outright:
no entity expansion ("billion laughs"), no external entity or DTD fetched, whatever the document
declares.  Elements are read by local name (servers differ on namespaces), but the root must be
an Autodiscover element in Microsoft's Autodiscover namespace.  Errors say what is wrong with
the document, never what it contains.
"""

from __future__ import annotations

from ..facts.http import Document, Provider
from ..probes.addresses import host_name_problem

# Root namespaces are ".../exchange/autodiscover/responseschema/2006"; some servers and pages
# print https:// instead of http://.
_NAMESPACE_PREFIXES = (
    "http://schemas.microsoft.com/exchange/autodiscover/",
    "https://schemas.microsoft.com/exchange/autodiscover/",
)
# Values longer than this are cut: they end up in a status line.
MAX_VALUE = 256


class UnusableDocument(Exception):
    """The response is not an Autodiscover document we can read."""


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _namespace(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""


def _clip(text: str | None) -> str:
    value = (text or "").strip()
    return value[:MAX_VALUE]


def parse(body: bytes) -> Document:
    """The facts of an Autodiscover response; raise :class:`UnusableDocument`."""
    import xml.etree.ElementTree as ElementTree

    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree as SafeTree  # type: ignore[import-untyped]

    try:
        root = SafeTree.fromstring(body, forbid_dtd=True, forbid_entities=True)
    except defusedxml.DTDForbidden:
        raise UnusableDocument("document declares a DTD (refused: entity expansion)") from None
    # Entities and external references are declared in a DTD, refused above: these two stay
    # for a defusedxml that checks in another order.
    except defusedxml.EntitiesForbidden:  # pragma: no cover - needs a DTD, refused first
        raise UnusableDocument("document declares entities (refused)") from None
    except defusedxml.DefusedXmlException:  # pragma: no cover - needs a DTD, refused first
        raise UnusableDocument("document uses forbidden XML constructs") from None
    except ElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise UnusableDocument(f"invalid XML at line {line}, column {column}") from None
    except LookupError:  # encoding="..." names a codec Python does not have
        raise UnusableDocument("invalid XML (unknown encoding declared)") from None
    except (ValueError, RecursionError) as exc:
        raise UnusableDocument(f"invalid XML ({exc.__class__.__name__})") from None
    if _local(root.tag) != "Autodiscover" or not _namespace(root.tag).startswith(
        _NAMESPACE_PREFIXES
    ):
        raise UnusableDocument("root element is not an Autodiscover response")
    return _read(root)


def _find(parent: object, name: str) -> object | None:
    for child in parent:  # type: ignore[attr-defined]
        if _local(child.tag) == name:
            return child
    return None


def _text(parent: object | None, name: str) -> str | None:
    if parent is None:  # pragma: no cover - _read passes only elements it found
        return None
    child = _find(parent, name)
    if child is None:
        return None
    return _clip(child.text)  # type: ignore[attr-defined]


def _read(root: object) -> Document:
    response = _find(root, "Response")
    if response is None:
        raise UnusableDocument("no Response element")
    error = _find(response, "Error")
    if error is not None:
        return Document(
            error_code=_text(error, "ErrorCode") or "",
            error_message=_text(error, "Message") or "",
        )
    account = _find(response, "Account")
    if account is None:
        raise UnusableDocument("no Account element")
    user = _find(response, "User")
    providers = []
    mailstore = addressbook = ""
    for child in account:  # type: ignore[attr-defined]
        if _local(child.tag) != "Protocol":
            continue
        if (child.get("Type") or "").lower() == "mapihttp":
            mailstore = _url(_find(child, "MailStore")) or mailstore
            addressbook = _url(_find(child, "AddressBook")) or addressbook
            continue
        kind, server = _text(child, "Type") or "", _text(child, "Server") or ""
        # EXPR's and EXHTTP's Server is the host name Outlook connects to (and the plugin, when
        # -H is not given); EXCH's is a mailbox's GUID address, never a host name
        if server and kind.upper() in ("EXPR", "EXHTTP") and host_name_problem(server):
            raise UnusableDocument(f"the {kind.upper()} Server {server!r} is not a host name")
        providers.append(
            Provider(
                type=kind,
                server=server,
                ssl=_text(child, "SSL") or "",
                auth_package=_text(child, "AuthPackage") or "",
                cert_principal_name=_text(child, "CertPrincipalName"),
            )
        )
    return Document(
        action=_text(account, "Action") or "",
        redirect_url=_text(account, "RedirectUrl") or "",
        redirect_addr=_text(account, "RedirectAddr") or "",
        providers=tuple(providers),
        mapi_mailstore=mailstore,
        mapi_addressbook=addressbook,
        legacy_dn=(_text(user, "LegacyDN") or "") if user is not None else "",
    )


def _url(block: object | None) -> str:
    """The ExternalUrl of a mapiHttp MailStore or AddressBook block, else its InternalUrl."""
    if block is None:
        return ""
    return _text(block, "ExternalUrl") or _text(block, "InternalUrl") or ""
