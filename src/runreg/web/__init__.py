"""The web application: server-rendered pages (Jinja2 + htmx) over the domains' services, one layout."""

from runreg.web import (
    config,
    cycles,
    datasets,
    datasets_accepted,
    dctools,
    dev,
    json_portal,
    log,
    luminosity,
    ml,
    offline,
    online,
    runs,
)

#: Every page router, mounted by the HTTP shell.
ROUTERS = [
    online.router,
    offline.router,
    runs.router,
    datasets.router,
    log.router,
    config.router,
    datasets_accepted.router,
    json_portal.router,
    cycles.router,
    dctools.router,
    ml.router,
    luminosity.router,
    dev.router,
]
