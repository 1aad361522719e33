"""Who the lab's servers are and who may log on to them: the PKI and its certificates, the
accounts and passwords, the Kerberos realm (a real MIT KDC) and the acceptor the front ends log
on with.  It imports the network floor only; the endpoints build on it."""
