"""The building blocks of check_outlook_anywhere, one concern per module.

Data flows one way: arguments -> target addresses -> one probe per address (concurrently) ->
plain facts per node -> Contexts judge the facts -> the Summary writes one line and long output.

The certificate check (every run):

* ``options``: argument types; every bad value becomes one clear sentence (UNKNOWN)
* ``credentials``: the Autodiscover password's sources, and keeping it out of all output
* ``deadline``: the one deadline from ``-t`` that every socket and DNS query shares
* ``addresses``: -I, the system resolver, or a chosen DNS server (dnspython, lazily); IP text
* ``tlsprobe``: TCP connect + TLS handshake with SNI; the chain as served; OpenSSL's verdict
* ``certificate``: certificate facts from OpenSSL's decoding; ``cryptography`` only to explain
* ``principal``: the msstd: principal rules (CN first, SAN, wildcards), pure functions
* ``judgement``: design.md's states table as pure functions from facts to findings
* ``resource``: Resource ``CasArray``: addresses -> probes -> metrics of facts
* ``contexts``: Contexts ``node``, ``fleet``, ``resolution`` and the perfdata contexts
* ``summary``: Summary ``ArraySummary``: the first line and one long-output line per node
* ``output``: the text the engine reads (status line, perfdata, long output)

The HTTP checks (``--autodiscover``, ``--rpc``), imported only when asked for:

* ``httpclient``: a small HTTP/1.1 client, every read bounded by the deadline and in size
* ``autodiscover``: the Autodiscover lookup, request and redirects (facts only)
* ``autodiscover_xml``: the response document through ``defusedxml``, by local names
* ``autodiscover_judgement``: the published principal and the Autodiscover rows (pure)
* ``rpcproxy``: ``RPC_IN_DATA /rpc/rpcproxy.dll`` and ``/rpc/healthcheck.htm`` on every node
* ``rpc_judgement``: the RPC proxy rows (pure)
* ``http_checks``: their Resources and Contexts, and ``FullSummary``
"""

__version__ = "1.0.0"
