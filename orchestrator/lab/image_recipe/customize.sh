#!/bin/sh
# Runs inside the image's chroot after debootstrap, with /proc mounted and a policy-rc.d that
# forbids starting services. Arguments: the packages to install (from packages.txt).
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin

if ! apt-get install -y --no-install-recommends "$@"; then
    apt-get update
    apt-get install -y --no-install-recommends "$@"
fi

# Units that fail inside containers (no binfmt_misc, no kernel modules to load): mask them, so the
# instance boots to `systemctl is-system-running` = running instead of degraded.
ln -sf /dev/null /etc/systemd/system/systemd-binfmt.service
ln -sf /dev/null /etc/systemd/system/systemd-modules-load.service

# Per-instance identity is created on first boot: cloud-init generates SSH host keys, systemd a machine-id.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# The build host's name and resolver must not leak into the image (templates / DHCP set them).
: > /etc/resolv.conf
echo localhost > /etc/hostname

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
# The package lists are gone: date their folder to the epoch so that a first `apt update` with a
# cache-validity window (ansible's cache_valid_time) sees them as stale and downloads them.
touch -d @0 /var/lib/apt/lists
rm -rf /tmp/* /var/tmp/* /var/log/apt/* /var/cache/debconf/*-old
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
