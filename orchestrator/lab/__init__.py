"""The local LXD lab (daemon, bridge, storage pool, base image): the host the product deploys to by default.

One module per concern: :mod:`.settings`, :mod:`.errors`, :mod:`.packages` (Debian packages),
:mod:`.processes` (PID records), :mod:`.daemons` (lxcfs and lxd), :mod:`.lxd_api` (the daemon's API),
:mod:`.preseed` (bridge, storage pool, profile), :mod:`.image` (the debootstrap build) and
:mod:`.image_import` (the image under its alias in LXD), :mod:`.status`; :mod:`.local_lab` is the ``Lab``
that runs them (``up`` / ``status`` / ``down`` / ``build_image``).

Kept empty of imports so that reading the defaults in :mod:`.settings` stays cheap.
"""
