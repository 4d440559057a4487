"""Helpers the tests share: CI rules, SSH keys and sshd, the CLI runner, e2e helpers, environments in every
state (environments), fakes of the command ports and a `Deployer`'s adapters (fakes), a real Torrust Tracker
process (tracker_process) and a real BitTorrent client (bittorrent_client)."""
