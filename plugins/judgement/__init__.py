"""The judgement: pure functions from facts to findings (kind, subject, state, evidence, fix).

``principal`` holds the name rules (msstd: prefix, CN or SAN, wildcards), ``findings`` the kinds
and the plain Finding/Fix data, ``verdict`` judges nodes, the fleet and DNS and returns one
Verdict for the whole check, ``autodiscover`` and ``rpc`` judge the published settings and the
RPC proxies.  Nothing here does I/O or imports a probe: only facts come in.
"""
