"""The analysts' web application (French, DSFR, RGAA), served by the hub on the API's policy.

``install_web(app)`` adds the pages (hub/web/views.py) and the static files bundled at set-up
(hub/web/frontend → hub/web/static). See ADR 0010 for why the pages read through the API.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install_web(app: FastAPI) -> None:
    from hub.web.views import STATIC_DIR, router

    app.include_router(router)
    # check_dir=False: a hub built without the front end still serves its API (404 on /static).
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
