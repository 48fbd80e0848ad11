"""``aibubble``: the command line, a thin layer over the package's functions.

:mod:`analysis.cli.app` builds the parser and turns errors into one line and an exit code; each
other module registers the commands of one area and holds their handlers:

* :mod:`analysis.cli.reports` - ``report``, ``run``
* :mod:`analysis.cli.data` - ``validate``, ``import crunchbase|pitchbook``
* :mod:`analysis.cli.market` - ``fetch``, ``import-prices``, ``sweep``

Command modules never import :mod:`analysis.cli.app`, so the tree has no import cycle.
``python -m analysis.cli ...`` is the same as ``aibubble ...``.
"""

from analysis.cli.app import build_parser, dispatch, main  # noqa: F401
