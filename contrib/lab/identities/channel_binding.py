"""Channel binding (Extended Protection): what a logon bound to a TLS connection binds to.

Both the NTLM and the Kerberos logons of the lab's front ends are checked against
``tls-server-end-point`` (RFC 5929 4.1) of the certificate a node presents, or of another
certificate where a node plays one behind a TLS-offloading device.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


def tls_server_end_point(cert: x509.Certificate) -> bytes:
    """RFC 5929 channel-binding application data of ``cert``: the certificate's signature hash
    (SHA-256 in place of MD5 and SHA-1) of its DER form, after ``tls-server-end-point:``."""
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return b"tls-server-end-point:" + digest.finalize()
