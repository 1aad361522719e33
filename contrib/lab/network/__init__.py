"""The lab's network floor: loopback addresses and shared ports, the DNS server, the TLS node
arrays and the HTTP/1.1 server framing.  It imports nothing else of the lab: the identities,
the endpoints and the lab itself build on it."""
