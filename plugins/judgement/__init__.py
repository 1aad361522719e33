"""The judgement: pure functions from facts to findings (kind, subject, state, evidence, fix).

``principal`` holds the name rules (msstd: prefix, CN or SAN, wildcards), ``findings`` the kinds
and the plain Finding/Fix data, ``verdict`` judges nodes, the fleet and DNS and returns one
Verdict for the whole check, ``autodiscover``, ``rpc`` and ``revocation`` judge the published
settings, the RPC proxies and the revocation status of the chains.  Nothing here does I/O or
imports a probe: only facts come in.
"""
