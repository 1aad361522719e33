"""Probes: they connect and record what they saw as facts, failures included; they decide no state.

``addresses`` resolves the host name (the system resolver, or dnspython for ``--dns-server``),
``tls`` shakes hands with every node concurrently and reads its chain, ``rpcproxy`` asks every
node's ``/rpc/rpcproxy.dll`` for its authentication schemes (``--rpc`` only), ``revocation``
fetches the CRLs and OCSP answers of every chain the nodes send (``--revocation`` only).
"""
