#!/usr/bin/env bash
# Debian packages the tests need beyond the lab's: an sshd binary for the integration tests (they start
# their own on loopback). Installed without starting the system's ssh service.
set -euo pipefail
[[ -x /usr/sbin/sshd && -x /usr/bin/ssh-keygen ]] && exit 0
echo "==> installing openssh-server (for the sshd integration tests; its service is not started)"
policy=/usr/sbin/policy-rc.d
created_policy=""
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap 'if [[ -n "$created_policy" ]]; then rm -f "$policy"; fi' EXIT
apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null; }
