"""The web survey: an ASGI app (Starlette) rendering any instrument in the NHS.UK style."""

from sharedground.web.app import create_app

__all__ = ["create_app"]
