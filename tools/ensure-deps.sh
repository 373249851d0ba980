#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for a task: Debian packages through apt-get (only when a tool is
# missing, and only when we may: root or passwordless sudo), and npm dependencies (npm ci) when node_modules is
# missing or older than package-lock.json. Otherwise it names the exact packages and command, and fails.
#   usage: tools/ensure-deps.sh test|demo|bench|fixtures ...
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/net-retry.sh
source tools/lib/net-retry.sh

# tool-or-file:debian-package, per task.
need_fixtures=(
  /bin/busybox:busybox-static mcopy:mtools mkfs.vfat:dosfstools sfdisk:fdisk cpio:cpio
  grub-mkstandalone:grub-common zstd:zstd flock:util-linux
)
need_qemu=(
  qemu-system-x86_64:qemu-system-x86 qemu-system-aarch64:qemu-system-arm
  /usr/share/OVMF/OVMF_CODE_4M.fd:ovmf /usr/share/AAVMF/AAVMF_CODE.fd:qemu-efi-aarch64
  swtpm:swtpm swtpm_setup:swtpm-tools ssh-keygen:openssh-client
)
need_test=(
  "${need_fixtures[@]}" "${need_qemu[@]}"
  /usr/sbin/sshd:openssh-server ssh:openssh-client socat:socat ser2net:ser2net /usr/sbin/agetty:util-linux
  /usr/bin/python3:python3 setpriv:util-linux
  xmllint:libxml2-utils /usr/lib/chromium/chromium:chromium
  ipmi_sim:openipmi ipmitool:ipmitool pdudaemon:pdudaemon openssl:openssl tinyproxy:tinyproxy
)
need_bench=("${need_test[@]}" /usr/lib/python3/dist-packages/pexpect:python3-pexpect)
need_demo=("${need_fixtures[@]}" "${need_qemu[@]}")

missing=()
for task in "$@"; do
  var="need_${task}[@]"
  for entry in "${!var}"; do
    what=${entry%%:*}
    pkg=${entry##*:}
    if [[ $what == /* ]]; then [[ -e $what ]] && continue; else command -v "$what" >/dev/null 2>&1 && continue; fi
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  done
done

if ((${#missing[@]})); then
  echo "eve-qual: installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) == 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "eve-qual: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  net_retry "apt-get update" "${sudo[@]}" apt-get update -qq
  net_retry "apt-get install" "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "eve-qual: installing npm dependencies (npm ci)" >&2
  # --prefer-offline: the lockfile pins every package by hash, so npm's cache serves what it holds without asking the
  # registry (CI's npm ci took 3 min of timeouts when the registry could not be resolved).
  npm ci --prefer-offline --no-audit --no-fund >&2
fi
