#!/usr/bin/env bash
# Runs a command against a real, private Secret Service: a fresh D-Bus session bus
# (dbus-run-session) with an unlocked gnome-keyring-daemon whose keyring lives in a
# throw-away XDG_DATA_HOME. The user's own keyring is never touched.
#
#   tests/tools/with-keyring.sh cargo test --locked
#
# Installs the Debian packages it needs when they are missing (idempotent). The command's
# exit status is this script's exit status; the keyring folder is removed afterwards.
set -euo pipefail

log() { printf 'with-keyring.sh: %s\n' "$*" >&2; }

if [ "${1:-}" = "--inside-session" ]; then
    shift
    # The keyring is created with this password and unlocked; it guards nothing (the folder is
    # fresh and deleted at the end), it only makes the daemon start unlocked without a prompt.
    printf %s "keyrack-test-keyring" | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
    # The daemon's name appears on the bus some time after --daemonize returns.
    for _ in $(seq 1 200); do
        if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
            # Tells the keychain tests that this keyring is a throw-away one they may write to.
            KEYRACK_TEST_KEYRING=1 exec "$@"
        fi
        sleep 0.05
    done
    log "gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s"
    exit 1
fi

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

# dbus-x11 is listed so that apt does not pull systemd in as gnome-keyring's D-Bus provider.
missing=()
for package in dbus dbus-x11 gnome-keyring libsecret-tools; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (a private Secret Service for the keychain tests)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/keyrack-keyring.XXXXXX")"
trap 'rm -rf -- "$keyring_home"' EXIT
status=0
XDG_DATA_HOME="$keyring_home" dbus-run-session -- "$0" --inside-session "$@" || status=$?
exit "$status"
