"""Helpers the tests share: CI rules, SSH keys and sshd, the CLI runner, e2e helpers, a real Torrust Tracker
process (tracker_process) and a real BitTorrent client (bittorrent_client)."""
