"""The lab's network floor: loopback addresses and ports shared by many of them, the listening
site every server of the lab is, what a TLS server serves, the DNS server, the TLS node arrays
and the HTTP/1.1 server side.  It imports nothing else of the lab: the identities, the endpoints
and the lab itself build on it."""
