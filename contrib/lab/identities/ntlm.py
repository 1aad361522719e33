"""NTLM as the lab's front ends read it, beside pyspnego's acceptor: the message type, whether an
AUTHENTICATE carries a channel binding, and the lab's own NTLMv2 check of the bytes as sent
([MS-NLMP] 3.3.2), for clients whose AV pairs pyspnego lays out otherwise.
"""

from __future__ import annotations

import hashlib
import struct

BINDING = 0x000A  # MsvAvChannelBindings ([MS-NLMP] 2.2.2.1)


def ntlm_message_type(token: bytes) -> int:
    """1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE; 0 when ``token`` is no NTLM message."""
    if len(token) < 12 or not token.startswith(b"NTLMSSP\x00"):
        return 0
    return int(struct.unpack_from("<I", token, 8)[0])


def carries_binding(token: bytes) -> bool:
    """Whether an NTLM AUTHENTICATE carries a non-zero MsvAvChannelBindings in its NTLMv2
    response ([MS-NLMP] 2.2.1.3, 2.2.2.7): the lab's own reading, not the acceptor's."""
    if ntlm_message_type(token) != 3 or len(token) < 28:
        return False
    length, _max, offset = struct.unpack_from("<HHI", token, 20)
    response = token[offset : offset + length]
    pos = 16 + 28  # NTProofStr, then the fixed part of NTLMv2_CLIENT_CHALLENGE
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, pos)
        pos += 4
        if av_id == 0:  # MsvAvEOL
            break
        value = response[pos : pos + av_len]
        pos += av_len
        if av_id == BINDING:
            return any(value)
    return False


def _field(token: bytes, at: int) -> bytes:
    length, _max, offset = struct.unpack_from("<HHI", token, at)
    return token[offset : offset + length]


def ntlmv2_user(
    token: bytes,
    challenge: bytes,
    password: str,
    accounts: set[tuple[str, str]],
    binding: bytes | None,
) -> str | None:
    """The lab's own check of an NTLMv2 AUTHENTICATE ([MS-NLMP] 3.3.2), over the response's
    bytes as sent, as Windows checks it: the user ("DOMAIN\\user" or the UPN) whose password
    gives its NTProofStr, or None.  pyspnego's acceptor re-lays the client's AV pairs out before
    hashing them and so refuses clients (impacket's) that lay them out otherwise; the lab uses
    this where pyspnego refused.  ``binding``: the application data the MsvAvChannelBindings
    must hash to (all zeros is taken, as pyspnego does)."""
    from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2
    from spnego.channel_bindings import GssChannelBindings

    if ntlm_message_type(token) != 3 or len(token) < 64 or len(challenge) < 32:
        return None
    try:
        response = _field(token, 20)
        domain = _field(token, 28).decode("utf-16-le")
        user = _field(token, 36).decode("utf-16-le")
    except (struct.error, UnicodeDecodeError):
        return None
    if len(response) <= 24 or (domain.lower(), user.lower()) not in accounts:
        return None
    key = ntowfv2(user, ntowfv1(password), domain)
    if hmac_md5(key, challenge[24:32] + response[16:]) != response[:16]:
        return None
    if binding is not None:
        wanted = hashlib.md5(GssChannelBindings(application_data=binding).pack()).digest()
        sent = _av_pair(response, BINDING)
        if sent not in (wanted, bytes(16)):
            return None
    return f"{domain}\\{user}" if domain else user


def _av_pair(response: bytes, wanted: int) -> bytes | None:
    pos = 16 + 28  # NTProofStr, then the fixed part of NTLMv2_CLIENT_CHALLENGE
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, pos)
        pos += 4
        if av_id == 0:
            return None
        if av_id == wanted:
            return response[pos : pos + av_len]
        pos += av_len
    return None


def fresh_challenge() -> bytes:
    """An NTLM CHALLENGE from a new acceptor (the NTLM-loop host's answer to every leg)."""
    import spnego

    negotiate = spnego.client("loop", "loop", protocol="ntlm").step()
    return spnego.server(protocol="ntlm").step(negotiate) or b""
