"""Who the lab's servers are and who may log on to them: the PKI and its certificates (the
hostile ones too), the accounts and passwords, NTLM as the lab reads it, channel bindings, the
Kerberos realm (a real MIT KDC, and one that never answers) and the acceptor the front ends log
on with.  It imports the network floor only; the endpoints build on it."""
