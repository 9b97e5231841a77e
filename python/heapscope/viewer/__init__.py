"""The local web viewer (``heapscope view``): a standard-library HTTP server on
127.0.0.1 that answers a JSON API over the files it was given (snapshots, Stat profiles)
and serves the page in ``assets/`` that draws it. docs/viewer.md describes the API.

* :mod:`.server` — the threading HTTP server: the token check, routing, JSON replies.
* :mod:`.api` — the API's endpoints: paths and parameters to the views' answers.
* :mod:`.loaded_files` — opening the files given (snapshot or profile, by content).
* :mod:`.snapshot_view` — one snapshot's answers, with what is costly cached.
* :mod:`.profile_view` — one profile file's series, re-read as it grows.
* :mod:`.report` — ``heapscope report``: one self-contained HTML file (no server).
"""

from .server import ViewerServer as ViewerServer
