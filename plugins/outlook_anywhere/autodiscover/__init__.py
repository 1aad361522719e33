"""Autodiscover (``--autodiscover`` only): what the Exchange side publishes to Outlook.

``lookup`` walks the candidates a client tries (the URL given, or the domain's https and http
endpoints and its SRV record), follows redirects and logs on with the Autodiscover credentials;
``document`` reads the Outlook provider settings (EXPR, EXHTTP, EXCH) from the untrusted XML.
"""
