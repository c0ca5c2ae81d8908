"""The web application: server-rendered pages (Jinja2 + htmx) over the domains' services, one layout."""

from runreg.web import config, cycles, dev, json_portal, log, online, runs

#: Every page router, mounted by the HTTP shell.
ROUTERS = [
    online.router,
    runs.router,
    log.router,
    config.router,
    json_portal.router,
    cycles.router,
    dev.router,
]
