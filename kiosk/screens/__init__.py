"""Kivy screens of the kiosk: each `<name>.kv` sits beside this package and holds its layout;
the classes here only copy view-model data into properties the .kv binds to."""
