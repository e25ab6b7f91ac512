"""Colours and sizes shared by every screen: large text, high contrast (WCAG AAA pairs)."""
BG = (0.04, 0.09, 0.18, 1)          # deep navy background
BAR = (0.0, 0.0, 0.0, 1)
WHITE = (1, 1, 1, 1)
INK = (0.02, 0.02, 0.05, 1)         # text on light buttons
TILE = (1, 1, 1, 1)
TILE_DOWN = (0.75, 0.82, 0.95, 1)
YELLOW = (1.0, 0.84, 0.0, 1)        # the one main action on a screen
YELLOW_DOWN = (0.85, 0.68, 0.0, 1)
BLUE = (0.08, 0.36, 0.85, 1)        # priority button: set apart by colour and place
BLUE_DOWN = (0.05, 0.25, 0.6, 1)
GREEN = (0.55, 0.95, 0.6, 1)
ALERT = (0.80, 0.05, 0.05, 1)
MUTED = (0.80, 0.86, 0.95, 1)
PANEL = (0.09, 0.17, 0.31, 1)        # a calm box for advice (nearby centres)
