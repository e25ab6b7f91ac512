"""The pure domain: the rules of a one-stop centre. No paho, flask, sqlite or wall clock here."""
