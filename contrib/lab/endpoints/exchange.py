"""An Exchange front end in the lab: RPC over HTTP v2 and MAPI over HTTP behind a real logon,
as strict as Exchange 2013-SE where the specifications leave a choice (each place names its
section).

The hosts of :data:`.logon_hosts.LOGON_HOSTS` (``logon-*.contoso.test``, on 127.0.202.x, the web
side's port) play Client Access nodes the way Outlook meets them:

* Authentication on the HTTP layer (:mod:`.logon`): ``WWW-Authenticate: Negotiate`` and ``NTLM``
  (pyspnego's acceptor, the lab account of :mod:`contrib.lab.identities.accounts`), or ``Basic``
  alone on ``logon-basic``. With Extended Protection on (Require, or Accept on ``logon-ep-accept*``:
  a binding must be right when sent, none is taken too), an NTLM AUTHENTICATE's channel binding must
  equal ``tls-server-end-point`` of the certificate the node presents
  (:mod:`contrib.lab.identities.channel_binding`, RFC 5929 4.1: the certificate's signature hash;
  the hosts' certificates are signed with SHA-256, SHA-384 or SHA-512,
  :attr:`.logon_hosts.LogonHost.digest`); ``logon-ep-broken``'s second node binds another
  certificate (a TLS-offloading device): it refuses the real binding and accepts a logon without
  one. NTLM is connection-based: once a connection authenticated, its next requests need no
  ``Authorization`` header.
* ``/rpc/rpcproxy.dll?<server>:<port>`` (:mod:`.rpc_proxy`; [MS-RPCH] 2.2.2: the query MUST be
  there, the echo's too; without it: 400): an echo (``RPC_IN_DATA``/``RPC_OUT_DATA`` with
  Content-Length 0..16) is answered ``200 Success`` with an RTS echo PDU. ``RPC_OUT_DATA`` carrying
  CONN/A1 opens an OUT channel: ``200 Success``, chunked to an HTTP/1.1 client (each PDU one chunk,
  as Exchange 2013+ does), raw under Content-Length 1 GiB to an HTTP/1.0 one; CONN/A3, and CONN/C2
  once the IN channel with the same virtual connection cookie (an ``RPC_IN_DATA`` to the same
  ``<server>:<port>`` whose body starts with CONN/B1) arrived. Both channels stay open until the
  client closes them. A 401 to a request whose 1 GiB body was not read ends the connection, so an IN
  channel sends its NTLM NEGOTIATE with Content-Length 0 first (as Outlook does) and CONN/B1 with
  the AUTHENTICATE. ``<server>`` must be the host's :func:`.logon_hosts.exchange_server` value and
  ``<port>`` one of 6001, 6002, 6004; anything else, and 6002 on ``logon-503``, is answered
  ``HTTP/1.0 503 RPC Error: 6ba, EEInfo: <base64>`` (2.1.2.1.3).
* ``/mapi/healthcheck.htm`` (no logon), ``/mapi/emsmdb/`` and ``/mapi/nspi/``: 401 without
  credentials; authenticated, ``POST ...?MailboxId=<exchange_server(host)>`` plays a mailbox logon
  (:mod:`.mapi`, [MS-OXCMAPIHTTP]): ``Connect`` (the UserDn must be the mailbox's
  :func:`.logon_hosts.legacy_dn`, else ErrorCode ecUnknownUser; ``logon-mailbox-moved`` answers
  ecWrongServer) opens a session with the ``MapiContext`` and ``MapiSequence`` cookies; ``PING`` and
  ``Disconnect`` need that session (``X-ResponseCode`` 13 without the cookie, 10 for a session not
  found); every request needs ``X-RequestType``, ``X-RequestId`` (2.2.2.1) and ``X-ClientInfo``
  (2.2.3.3.4; 7 without one of them). Answers are 200 in the PROCESSING/DONE framing with the
  final ``X-ResponseCode`` after DONE (2.2.2.2), chunked to HTTP/1.1 clients.
  :meth:`Front.opened` lists every session opened and whether it was closed.
  ``logon-ping-error`` answers a PING 10; ``logon-mapi-no-code`` answers without
  ``X-ResponseCode``, in the head and after DONE; a MailboxId of another mailbox is a 404.
  A MAPI request's ``X-RequestType`` is recorded (:class:`.site.Seen`) before the logon.
* ``logon-stall``'s node 2, once logged on, answers neither the echo nor a PING;
  ``logon-echo-403`` answers the echo, once logged on, ``403 Forbidden``.
* ``logon-krb-forged`` accepts the Kerberos ticket and answers with a ``Negotiate`` token that
  does not verify as the logon's mutual-authentication token (:mod:`.logon`).
* ``logon-connect-stall`` sends Connect's head (the session's cookies) and ``PROCESSING``, then
  nothing more.

The Autodiscover mailbox ``<first label>@contoso.test`` of each host publishes it
(:func:`.autodiscover.protocols`): EXCH, EXPR, EXHTTP and WEB, or, asked with
``X-MapiHttpCapability: 1``, mapiHttp, EXHTTP and WEB only ([MS-OXDSCLI] 3.2.5.1); ``User/LegacyDN``
in both.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..network.http11 import Request, Response, Stream
from .logon_hosts import BY_HOST
from .mapi import Mapi, Session
from .rpc_proxy import RpcProxy, first_pdu

if TYPE_CHECKING:
    from .site import Authenticate, Seen, Site


class Front:
    """The request handling of every ``exchange`` site (see the module docstring)."""

    def __init__(self, authenticate: Authenticate, running: Callable[[], bool]) -> None:
        self.authenticate = authenticate
        self.mapi = Mapi()
        self.rpc = RpcProxy(running)

    def opened(self) -> list[Session]:
        """Every MAPI session opened since the last :meth:`clear`, in order."""
        return self.mapi.opened()

    def clear(self) -> None:
        self.mapi.clear()

    def answer(
        self,
        site: Site,
        request: Request,
        seen: Seen,
        state: dict[str, object],
        sock: socket.socket,
        stream: Stream,
    ) -> Response | None:
        """The response, or None when the connection was served to its end here."""
        host = BY_HOST[site.host]
        path, _, query = request.path.partition("?")
        path = path.lower()
        fe = [("X-FEServer", site.label.split(".")[0])] if site.label else []
        if path == "/mapi/healthcheck.htm" and request.method.upper() == "GET":
            if host.name == "logon-mapi-down":
                return Response(503, "Service Unavailable", fe, b"", close=True)
            return Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
        if path == "/rpc/healthcheck.htm" and request.method.upper() == "GET":
            return Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
        if path in ("/mapi/emsmdb", "/mapi/emsmdb/", "/mapi/nspi", "/mapi/nspi/"):
            # recorded before the logon: a client's unauthenticated request is MAPI too
            seen.request_type = request.headers.get("x-requesttype", "")
            return self._authenticated(site, request, seen, state, fe) or self.mapi.answer(
                host, site, request, seen, query, sock, stream, fe
            )
        if path == "/rpc/rpcproxy.dll":
            if request.length > 16 and not request.streamed:
                pdu = first_pdu(request, stream)
                seen.rts = [pdu.name if pdu else "invalid"]
            refused = self._authenticated(site, request, seen, state, fe)
            if refused is not None:
                return refused
            if request.streamed and request.headers.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # logged on: now the body
            return self.rpc.answer(host, site, request, seen, query, sock, stream, fe)
        return Response(404, "Not Found", fe, b"", close=request.streamed)

    def _authenticated(
        self,
        site: Site,
        request: Request,
        seen: Seen,
        state: dict[str, object],
        fe: list[tuple[str, str]],
    ) -> Response | None:
        """None when the request may go on, else the 401 to send."""
        user = self.authenticate(site, request, seen, state)
        if isinstance(user, Response):
            user.headers += fe
            # A body that was not read cannot be skipped: the connection ends with the 401.
            user.close = user.close or request.streamed
            return user
        return None
