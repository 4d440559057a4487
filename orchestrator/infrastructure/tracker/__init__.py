"""The Torrust Tracker on the host: its image (built here, no registry), its release files, its checks."""
