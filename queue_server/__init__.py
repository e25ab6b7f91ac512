"""The queue server of one site: domain core, event store, MQTT gateway, web app, simulator."""
