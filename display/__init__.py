"""Wall display (Kivy and browser) and the call announcer (chime + Vietnamese speech)."""
