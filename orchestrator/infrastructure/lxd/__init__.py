"""The local LXD lab (daemon, bridge, storage pool, base image). See :mod:`.lab`.

Kept empty of imports so that reading the defaults in :mod:`.settings` stays cheap.
"""
