#!/usr/bin/env bash
# Installs what building, running and testing the desktop app needs, and only what is
# missing: the Debian packages for Tauri 2 / WebKitGTK (plus Xvfb, WebKitWebDriver,
# ImageMagick, xdotool), `tauri-driver` for the end-to-end tests, and the Tauri CLI
# from npm (package-lock.json) for packaging. Idempotent: a second run installs nothing.
#
#   KEYRACK_APP_SETUP=build   only the Debian packages (to build and open the app)
#   KEYRACK_APP_SETUP=test    the Debian packages and tauri-driver (the end-to-end tests)
#   (unset)                   everything, including the Tauri CLI for packaging the .deb
#
# Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf 'setup-app.sh: %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(libwebkit2gtk-4.1-dev build-essential libssl-dev libayatana-appindicator3-dev
          librsvg2-dev libxdo-dev pkg-config xvfb xauth webkit2gtk-driver imagemagick
          xdotool dbus-x11 file librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[ "${KEYRACK_APP_SETUP:-}" = build ] && exit 0

command -v cargo >/dev/null || { log "cargo not found: install Rust from https://rustup.rs first"; exit 1; }
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    log "installing tauri-driver (about 40 s)"
    cargo install tauri-driver --version '^2' --locked >&2
fi
[ "${KEYRACK_APP_SETUP:-}" = test ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs and npm"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >&2
fi
# npm ci only when the lock file changed since the last install.
stamp="$root/node_modules/.keyrack-lock.sha256"
want="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || [ ! -x "$root/node_modules/.bin/tauri" ]; then
    log "installing the Tauri CLI (npm ci)"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
    printf '%s\n' "$want" > "$stamp"
fi
