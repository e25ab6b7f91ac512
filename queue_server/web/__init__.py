"""The Flask web app of a site: JSON API, live stream, and the pages (app factory, blueprints)."""
from queue_server.web.app import create_app  # noqa: F401
