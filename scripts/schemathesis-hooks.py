"""schemathesis hooks for scripts/schemathesis: file uploads (`POST /api/v2/files`) send their
archive's bytes as they are, as for application/octet-stream."""

import schemathesis

schemathesis.serializer.alias("application/x-tar", "application/octet-stream")
schemathesis.serializer.alias("application/zip", "application/octet-stream")
