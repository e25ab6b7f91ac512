PROTOCOL_VERSION = 1
# docs/protocol.md: every payload is at most 16 KiB.
MAX_PAYLOAD_BYTES = 16 * 1024
