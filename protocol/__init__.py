"""The MQTT contract (docs/protocol.md, version 1), shared by every device.

`topics` builds and parses every topic, `messages` holds the payload models,
`errors` the error codes, `schema` exports JSON Schema, `client` a paho client
set up the way every motcua device needs it.
"""
from protocol.version import PROTOCOL_VERSION, MAX_PAYLOAD_BYTES  # noqa: F401
