"""The citizens' touch kiosk: catalogue, view-model, Kivy screens, printing, buttons, speech."""
