"""What the lab's servers answer: the web sites (Autodiscover, the RPC proxy, the Exchange front
ends with MAPI over HTTP) and how they log a client on, the front doors, the revocation site,
the HTTP CONNECT proxies and the hostile servers.  It imports the network floor and the
identities; the lab itself (``contrib.lab``), its scenarios and its command line build on it."""
