"""Translates MQTT <-> service commands; nothing else."""
