"""The building blocks of check_outlook_anywhere, installed as the package ``outlook_anywhere``.

Data flows one way: arguments -> [Autodiscover: what is published] -> host and addresses -> one
probe per address (concurrently) -> facts -> the judgement's findings -> Contexts -> the Summary
and its words.  docs/design.md has the module map and the wiring table; in short:

* facts: ``facts``, ``http_facts`` (plain data with kinds), ``certificate`` (read from OpenSSL)
* transport: ``transport`` (the deadline, connect, TLS pump, contexts, fan-out, wire text,
  resolver set-up, trace), ``output`` (what the engine reads)
* probes: ``addresses``, ``tlsprobe``; with ``--rpc`` or ``--autodiscover`` only: ``httpclient``,
  ``httpauth``, ``rpcproxy``, ``autodiscover``, ``autodiscover_xml``
* judgement (pure): ``principal``, ``findings``, ``judgement``, ``autodiscover_judgement``,
  ``rpc_judgement``
* the check: ``resource`` (Resource ``OutlookAnywhere``), ``contexts`` (``FindingsContext``, the
  perfdata contexts), ``summary`` (``CheckSummary``), ``words`` (every sentence), ``options``
  and ``credentials`` (the command line and the password)
"""

__version__ = "1.0.0"
