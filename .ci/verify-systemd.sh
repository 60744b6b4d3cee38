#!/usr/bin/env bash
# Checks deploy/randchat.service with systemd's own tools:
#   - `systemd-analyze verify`: syntax, directive values, and that ExecStart
#     is an executable. The unit names /usr/local/bin/randchat, which a build
#     machine does not have, so a copy pointing at a real randchat binary is
#     verified instead. verify exits 0 even when it ignores a bad value, so
#     any output at all counts as a failure.
#   - `systemd-analyze security --offline`: the hardening must keep the
#     exposure score at or below MAX_EXPOSURE (systemd rates 0 safest, 10
#     worst; the unit scores 1.2 "OK").
#
# Usage: .ci/verify-systemd.sh [path/to/randchat]   (default: target/debug/randchat)
# UNIT=path checks another unit file (the tests feed it a broken copy).
# Exits 0 with a note when systemd-analyze is not installed
# (apt-get install -y systemd).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXPOSURE=2.0
unit=${UNIT:-deploy/randchat.service}
binary=$(realpath "${1:-target/debug/randchat}")

if ! command -v systemd-analyze >/dev/null; then
    echo "verify-systemd: systemd-analyze not found; skipped (apt-get install -y systemd)"
    exit 0
fi
if [[ ! -x $binary ]]; then
    echo "verify-systemd: $binary is not an executable; build randchat first" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/local/bin/randchat run$' "$unit"
sed "s#^ExecStart=/usr/local/bin/randchat#ExecStart=$binary#" "$unit" >"$work/randchat.service"

# SYSTEMD_LOG_COLOR: plain text for the log.
out=$(cd "$work" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./randchat.service 2>&1) || {
    echo "$out"
    echo "verify-systemd: systemd-analyze verify failed" >&2
    exit 1
}
if [[ -n $out ]]; then
    echo "$out"
    echo "verify-systemd: systemd-analyze verify complained (see above)" >&2
    exit 1
fi
echo "verify-systemd: systemd-analyze verify: clean"

score=$(cd "$work" && systemd-analyze security --offline=true --no-pager ./randchat.service 2>&1 |
    sed -n 's/.*Overall exposure level for randchat.service: \([0-9.]*\).*/\1/p')
if [[ -z $score ]]; then
    echo "verify-systemd: no exposure score from systemd-analyze security" >&2
    exit 1
fi
if awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s > max) }'; then
    echo "verify-systemd: exposure $score is above $MAX_EXPOSURE; the hardening regressed" >&2
    exit 1
fi
echo "verify-systemd: systemd-analyze security: exposure $score (at most $MAX_EXPOSURE)"
