"""The ASGI application: mounts what each domain offers over HTTP."""
