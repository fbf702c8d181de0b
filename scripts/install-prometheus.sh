#!/usr/bin/env bash
# Installs Prometheus and promtool (Debian's `prometheus` package) when either
# is missing; the observability tests (tests/observe) and CI's rule checks need
# them. Does nothing, fast, when both are already on PATH. Needs root (or sudo)
# and an apt mirror.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
	exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo="sudo"
fi

# Another apt run (a parallel job, unattended upgrades) may hold the lock:
# wait for it rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=600 -qq)
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get "${apt_opts[@]}" update
$sudo apt-get "${apt_opts[@]}" install -y --no-install-recommends prometheus

# The package starts a system Prometheus on :9090 where systemd runs; the
# tests start their own on a free port, so stop it if it was started.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

prometheus --version 2>&1 | head -1
promtool --version 2>&1 | head -1
