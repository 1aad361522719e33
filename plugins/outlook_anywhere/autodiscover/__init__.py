"""Autodiscover (``--autodiscover`` only): what the Exchange side publishes to Outlook.

``request`` says what to look up (mailbox, credentials, what the check asks for), an
endpoint's https URL and the POST body; ``lookup`` walks the candidates a client tries (the URL
given, or the domain's https and http endpoints and its SRV record), follows redirects and logs
on with the Autodiscover credentials; ``document`` reads the Outlook provider settings (EXPR,
EXHTTP, EXCH) from the untrusted XML.
"""
