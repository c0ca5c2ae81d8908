"""The web application: server-rendered pages (Jinja2 + htmx) over the domains' services, one layout."""

from runreg.web import config, dev, json_portal, log, ml, online, runs

#: Every page router, mounted by the HTTP shell.
ROUTERS = [online.router, runs.router, log.router, config.router, json_portal.router, ml.router, dev.router]
