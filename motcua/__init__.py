"""motcua: kiosk and queue management for Vietnamese one-stop service centres."""
__version__ = "0.1.0"
