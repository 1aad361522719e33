"""The building blocks of check_outlook_anywhere, installed as the package ``outlook_anywhere``.

Data flows one way: arguments -> [Autodiscover: what is published] -> host and addresses -> one
probe per address (concurrently) -> facts -> the judgement's findings -> Contexts -> the Summary
and its words.  Each folder imports only the folders named before it:

* ``output``: the text the engine prints (the status line, text made printable, secrets hidden)
* ``facts/``: plain data with machine-readable kinds (``http``: the HTTP checks' facts;
  ``certificate``: a certificate as read from OpenSSL)
* ``transport/``: the deadline, connect, TLS pump, SSL contexts, fan-out, wire text, resolver
  set-up and trace (``http``: the HTTP/1.1 client; ``auth``: Basic, NTLM, Negotiate)
* ``probes/``: ``addresses``, ``tls``, ``rpcproxy``
* ``autodiscover/``: ``request``, ``lookup``, ``document``
* ``judgement/``: ``principal``, ``findings``, ``verdict``, ``autodiscover``, ``rpc`` (pure)
* ``check/``: ``options``, ``credentials``, ``resource``, ``contexts``, ``summary``, ``words/``
  (every sentence, a room per topic)

docs/design.md has the module map and the wiring table (metric -> context -> judge function ->
perfdata).
"""

__version__ = "1.0.0"
