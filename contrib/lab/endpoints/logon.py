"""How the lab's web sites log a client on: ``Basic``, ``NTLM`` and ``Negotiate`` on the HTTP
layer, as a site's row (:class:`.site.Site`) says, with Extended Protection.

NTLM goes through pyspnego's acceptor (the users of the NTLM user file,
:mod:`contrib.lab.identities.accounts`), and where it refuses a client that lays its AV pairs
out otherwise, through the lab's own NTLMv2 check (:func:`.ntlm.ntlmv2_user`).  Negotiate with
Kerberos goes through each node's :class:`KerberosAcceptor` once the lab has a KDC
(:meth:`Logon.use_kdc`).  A binding must be ``tls-server-end-point`` of the certificate the node
serves (:attr:`Logon.bindings`), or of the offloading device's (:data:`.site.OFFLOAD_CERT`).
Every outcome is written on the request's :class:`.site.Seen`: the user, the binding carried,
accepted, refused or challenged.  NTLM authenticates the connection: ``state`` (one per
connection) keeps the acceptor between legs and the user once logged on.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..identities.accounts import PASSWORD
from ..identities.kerberos import KerberosAcceptor, token_kind
from ..identities.ntlm import carries_binding, fresh_challenge, ntlm_message_type, ntlmv2_user
from ..network.http11 import Request, Response
from .site import OFFLOAD_CERT, Seen, Site

if TYPE_CHECKING:
    from ..identities.kdc import Kdc


class Logon:
    """The authentication of every web site (see the module docstring)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir  # the Kerberos nodes' replay caches go under it
        self.bindings: dict[str, bytes] = {}  # tls-server-end-point by certificate id
        self.accounts: set[tuple[str, str]] = set()  # (domain, user) of the NTLM user file
        self.acceptors: dict[str, KerberosAcceptor] = {}  # by site address, use_kdc()

    def challenge(self, site: Site) -> Response:
        headers = [
            ("WWW-Authenticate", f'Basic realm="{site.host}"' if s == "Basic" else s)
            for s in site.auth
        ]
        body = b"401 - Unauthorized: Access is denied due to invalid credentials."
        return Response(401, "Unauthorized", headers, body)

    def refuse(self, site: Site, seen: Seen) -> Response:
        seen.outcome = "refused"
        return self.challenge(site)

    def authenticate(
        self, site: Site, request: Request, seen: Seen, state: dict[str, object]
    ) -> str | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header and site.kind == "exchange" and state.get("user"):
            # NTLM authenticates the connection (as IIS keeps it): no header needed any more.
            seen.user = str(state["user"])
            return seen.user
        if scheme.lower() == "basic" and "Basic" in site.auth:
            try:
                user, _, password = base64.b64decode(token).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self.refuse(site, seen)
            seen.user = user
            if password != PASSWORD or site.refuses:
                return self.refuse(site, seen)
            seen.outcome = "accepted"
            return user
        if site.kerberos and scheme.lower() == "negotiate":
            return self._kerberos(site, token, seen, state)
        if scheme.lower() in ("ntlm", "negotiate") and scheme.lower() in (
            a.lower() for a in site.auth
        ):
            return self._ntlm(site, scheme, token, seen, state)
        if header:
            seen.outcome = "refused"
        return self.challenge(site)

    def _ntlm(
        self, site: Site, scheme: str, token: str, seen: Seen, state: dict[str, object]
    ) -> str | Response:
        import spnego
        from spnego.channel_bindings import GssChannelBindings

        try:
            message = base64.b64decode(token, validate=True)
        except ValueError:
            state.pop("ntlm", None)
            return self.refuse(site, seen)
        final = ntlm_message_type(message) == 3
        if final:
            seen.binding = carries_binding(message)
        if site.host == "logon-ntlm-loop.contoso.test":
            seen.outcome = "refused" if final else "challenged"
            challenge = f"{scheme} {base64.b64encode(fresh_challenge()).decode()}"
            return Response(401, "Unauthorized", [("WWW-Authenticate", challenge)], b"")
        bindings = None
        if final and site.protection != "off":
            if site.protection == "require" and not seen.binding:
                state.pop("ntlm", None)  # Extended Protection required: no binding, no logon
                return self.refuse(site, seen)
            if seen.binding:
                other = site.protection == "other-certificate"
                key = OFFLOAD_CERT if other else site.cert_id
                bindings = GssChannelBindings(application_data=self.bindings[key])
        server = state.get("ntlm")
        if server is None:
            server = spnego.server(protocol="ntlm")
            state["ntlm"] = server
        try:
            answer = server.step(message, channel_bindings=bindings)  # type: ignore[attr-defined]
            done = bool(server.complete)  # type: ignore[attr-defined]
            user = str(server.client_principal or "") if done else ""  # type: ignore[attr-defined]
        except Exception:  # wrong password, unknown user, wrong binding, garbage: all a 401
            state.pop("ntlm", None)
            # ... unless the lab's own reading of the bytes as sent takes it (see ntlmv2_user)
            data = bindings.application_data if bindings is not None else None
            challenge = state.pop("challenge", b"")
            assert isinstance(challenge, bytes)
            found = ntlmv2_user(message, challenge, PASSWORD, self.accounts, data)
            if not final or found is None:
                return self.refuse(site, seen)
            answer, user, done = b"", found, True
        if done:
            state.pop("ntlm", None)
            state.pop("challenge", None)
            seen.user = user
            if site.refuses:
                return self.refuse(site, seen)
            seen.outcome = "accepted"
            state["user"] = seen.user
            return seen.user
        seen.outcome = "challenged"
        state["challenge"] = answer or b""
        challenge = f"{scheme} {base64.b64encode(answer or b'').decode()}"
        return Response(401, "Unauthorized", [("WWW-Authenticate", challenge)], b"")

    def use_kdc(self, kdc: Kdc, sites: Iterable[Site], spare: str) -> None:
        """The Kerberos sites accept Negotiate with Kerberos from now on, each node with the
        keytab its :attr:`Site.kerberos` names and a replay cache of its own; Extended
        Protection as for NTLM (Require; other-certificate: bound to the offloading device's
        certificate, an unbound token accepted)."""
        modes = {"require": "require", "accept": "on", "other-certificate": "on", "off": "off"}
        rcaches = self.workdir / "rcache"
        rcaches.mkdir(exist_ok=True)
        for site in sites:
            if not site.kerberos:
                continue
            keytabs = {
                "current": kdc.keytab,
                "foreign": kdc.foreign_keytab,
                "stale": kdc.stale_keytab,
            }
            try:
                keytab = keytabs[site.kerberos](site.host)
            except KeyError:
                keytab = kdc.keytab(spare)  # no SPN: any key will do
            self.acceptors[site.address] = KerberosAcceptor(
                keytab, rcaches / f"{site.address}.rcache2", modes[site.protection]
            )

    def _kerberos(
        self, site: Site, token: str, seen: Seen, state: dict[str, object]
    ) -> str | Response:
        """Negotiate on a Kerberos site: one leg; the mutual-authentication token goes with
        the answer (``state["mutual"]``), a refusal's KRB-ERROR with the 401."""
        acceptor = self.acceptors.get(site.address)
        try:
            message = base64.b64decode(token, validate=True)
        except ValueError:
            return self.refuse(site, seen)
        seen.mechanism = token_kind(message)
        if acceptor is None or seen.mechanism not in ("kerberos", "spnego"):
            return self.refuse(site, seen)  # NTLM is off here
        key = OFFLOAD_CERT if site.protection == "other-certificate" else site.cert_id
        result = acceptor.accept(message, self.bindings[key])
        seen.binding = result.channel_bound
        if not result.accepted:
            seen.outcome = "refused"
            if result.answer:
                error = f"Negotiate {base64.b64encode(result.answer).decode()}"
                return Response(401, "Unauthorized", [("WWW-Authenticate", error)], b"")
            return self.challenge(site)
        seen.user = result.principal or ""
        if site.refuses:
            return self.refuse(site, seen)
        seen.outcome = "accepted"
        state["user"] = seen.user
        if result.answer:
            answer = result.answer
            if site.forged_mutual:
                # The AP-REP with its last byte changed, the end of its encrypted part: a token
                # of the right form that no client can verify, where the client asked for
                # mutual authentication (RFC 4120 3.2.4, 5.5.2; RFC 4121 4.1)
                answer = answer[:-1] + bytes([answer[-1] ^ 0xFF])
            state["mutual"] = f"Negotiate {base64.b64encode(answer).decode()}"
        return seen.user
