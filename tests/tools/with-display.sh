#!/usr/bin/env bash
# Run a command under a private Xvfb display with the environment the desktop app's tests use:
#   tests/tools/with-display.sh COMMAND [ARGS...]
# No session bus (so GLib starts no dbus-launch / at-spi daemons that outlive the app), unless
# KEYRACK_KEYRING=1: then the command runs in a private `dbus-run-session`, where the keychain
# tests start their own gnome-keyring-daemon. Xvfb is stopped when the command ends.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
command -v Xvfb >/dev/null || { echo "Xvfb is missing: run tests/tools/setup-app.sh" >&2; exit 1; }

tmp="$(mktemp -d)"
mkfifo "$tmp/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.log" &
xvfb=$!
cleanup() { kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
read -r number < "$tmp/display" || { cat "$tmp/xvfb.log" >&2; exit 1; }
export DISPLAY=":$number"
export NO_AT_BRIDGE=1
if [ "${KEYRACK_KEYRING:-}" = 1 ]; then
    dbus-run-session -- "$@"
else
    export DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus"
    "$@"
fi
