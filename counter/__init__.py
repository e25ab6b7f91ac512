"""Counter terminal: keypad and satisfaction pad (gpiozero) and a small status screen (Kivy)."""
