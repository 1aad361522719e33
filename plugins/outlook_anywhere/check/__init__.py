"""The check itself: the command line and the nagiosplugin parts that run the layers below.

``options`` and ``credentials`` read the command line and the password; ``resource`` runs the
stages in order (Autodiscover, addresses, probes) and hands their facts on; ``contexts`` turns
the judgement's verdict into states and perfdata; ``summary`` and ``words`` write the first line,
the long output and the ``-vvv`` trace.  docs/design.md has the wiring table.
"""
