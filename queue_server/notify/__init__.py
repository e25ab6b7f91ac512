"""Telling citizens outside the centre: reminders and "your turn is near", sent to a province's
SMS or Zalo gateway (`webhook.py`)."""
