"""Put production back through Git: revert one deploy commit, roll to an image, watch.

* :mod:`.models`: parsed deploy/rollback commits (from their trailers) and outcomes.
* :mod:`.history`: parse ``git log`` output into those models (pure).
* :mod:`.policy`: what to revert, whether it is already reverted or superseded,
  which earlier image to go back to (skipping quarantined ones), commit messages.
* :mod:`.rules`: the watch rules file, alert matching, cooldown and rollback limits.
* :mod:`.evidence`: the pull request body (table + Mermaid of failing objectives).
* :mod:`.gitrepo`: the git commands rollback needs (the only module here running git).
* :mod:`.publish`: push the rollback commit (fetch/re-apply/retry) or open a pull request.
* :mod:`.flows`: revert / to / quarantine edits, gluing the above to git and GitHub.
* :mod:`.watch`: the post-deploy watch loop (clock, sleep and signal sources injected).
* :mod:`.argo`: terminate a sync stuck on the bad revision, sync, wait for Healthy.

Policy modules take data and return frozen values; they run no git and open no socket.
"""

from __future__ import annotations
