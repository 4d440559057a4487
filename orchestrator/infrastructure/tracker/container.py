"""Facts about the tracker's container that the image, the rendered release and the playbooks share."""

from __future__ import annotations

CONFIG_PATH = "/etc/torrust/tracker/tracker.toml"
"""Where the rendered TOML is mounted (read-only) inside the container."""
DATABASE_DIR = "/var/lib/torrust/tracker/database"
"""The SQLite database's folder inside the container: a named volume, so it survives a re-release."""
DATABASE_FILE = f"{DATABASE_DIR}/sqlite3.db"
BINARY_PATH = "/usr/bin/torrust-tracker"
HEALTH_CHECK_BINARY_PATH = "/usr/bin/http_health_check"
"""The tracker crate's own health-check client, used by the container's health check (no shell in the image)."""
USER_ID = 1000
GROUP_ID = 1000
USER_NAME = "torrust"
CONFIG_ENV_VAR = "TORRUST_TRACKER_CONFIG_TOML_PATH"
