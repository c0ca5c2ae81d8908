"""The web application: server-rendered pages (Jinja2 + htmx) over the domains' services, one layout."""

from runreg.web import dev, online

#: Every page router, mounted by the HTTP shell.
ROUTERS = [online.router, dev.router]
