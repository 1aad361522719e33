"""The judgement: pure functions from facts to findings (kind, subject, state, evidence, fix).

``policy`` holds what the command line asks (thresholds, the policy every rule reads),
``principal`` the name rules (msstd: prefix, CN or SAN, wildcards, what a fix may propose),
``findings`` the kinds and the plain Finding/Fix data, ``verdict`` judges nodes, the fleet and
DNS and returns one Verdict for the whole check, ``autodiscover``, ``rpc``, ``logon``,
``revocation`` and ``proxy`` judge the published settings, the RPC proxies, the logons, the
revocation status of the chains and the proxy.  Nothing here does I/O or imports a probe: only
facts come in.
"""
