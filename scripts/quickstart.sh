#!/usr/bin/env bash
# Quick start on a fresh Debian 12, as root (`sudo scripts/quickstart.sh`):
# installs the runtime packages, builds and installs /usr/local/bin/rampart, enrolls
# a first user if the store has none, prints how to log in, then runs
# the server on 0.0.0.0:3389 (state in /var/lib/rampart). Safe to run again.
#
# Environment:
#   RAMPART_USER       RDP user name to create (default: the sudo caller, else "rampart")
#   RAMPART_UNIX_USER  Unix account its sessions run as (default: same as RAMPART_USER;
#                      created if missing)
#   RAMPART_PASSWORD   its password (default: generated and printed once)
#   RAMPART_LISTEN     listen address (default 0.0.0.0:3389)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STATE_DIR=/var/lib/rampart
CONFIG=/etc/rampart/rampart.toml
LISTEN="${RAMPART_LISTEN:-0.0.0.0:3389}"

die() { echo "quickstart: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root: sudo $0"

# 1. Runtime packages: the X server for sessions (Xorg with the dummy driver) and what
#    the default session runs; PAM (each session is a PAM login; building links libpam).
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    xserver-xorg-core xserver-xorg-video-dummy xvfb xterm openbox x11-xserver-utils xauth xfonts-base \
    libpam-modules libpam-runtime build-essential pkg-config ca-certificates libpam0g-dev nasm >/dev/null

# 2. Build as the invoking user when there is one (their rustup toolchain and their
#    files stay theirs), else as root.
BUILDER="${SUDO_USER:-root}"
BUILDER_HOME="$(getent passwd "$BUILDER" | cut -d: -f6)"
CARGO="$(command -v cargo || true)"
[[ -z "$CARGO" && -x "$BUILDER_HOME/.cargo/bin/cargo" ]] && CARGO="$BUILDER_HOME/.cargo/bin/cargo"
[[ -n "$CARGO" ]] || die "cargo not found: install Rust >= 1.85 with rustup (https://rustup.rs) and run this again"
if [[ "$BUILDER" != root ]]; then
    sudo -u "$BUILDER" -H env PATH="$(dirname "$CARGO"):$PATH" "$CARGO" build --release -p rampart
else
    "$CARGO" build --release -p rampart
fi
install -m 0755 target/release/rampart /usr/local/bin/rampart

# 3. PAM service (kept if the admin has one), config and state dir.
[[ -e /etc/pam.d/rampart ]] || install -m 0644 packaging/pam.d/rampart /etc/pam.d/rampart
install -d -m 0755 /etc/rampart
if [[ ! -e "$CONFIG" ]]; then
    if [[ -f rampart.example.toml ]]; then install -m 0644 rampart.example.toml "$CONFIG"; else : >"$CONFIG"; fi
fi
install -d -m 0700 "$STATE_DIR"

# 4. First user, when the store has none.
random_password() { # four random 5-letter syllable words and two digits, e.g. "Tavok-Rimel-...-42"
    local c=bdfghjklmnprstvz v=aeiou w i j n out=()
    for ((i = 0; i < 4; i++)); do
        w=""
        for ((j = 0; j < 5; j++)); do
            n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
            if ((j % 2 == 0)); then w+="${c:n % 16:1}"; else w+="${v:n % 5:1}"; fi
        done
        out+=("${w^}")
    done
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    printf '%s-%s-%s-%s-%02d\n' "${out[@]}" $((n % 100))
}

USERS="$(/usr/local/bin/rampart user list --state-dir "$STATE_DIR" --config "$CONFIG")"
if ! grep -qi "^no users" <<<"$USERS"; then
    echo "quickstart: users already enrolled; not creating another:"
    echo "$USERS"
else
    RUSER="${RAMPART_USER:-}"
    if [[ -z "$RUSER" ]]; then
        if [[ -n "${SUDO_USER:-}" && "$SUDO_USER" != root ]]; then RUSER="$SUDO_USER"; else RUSER=rampart; fi
    fi
    UUSER="${RAMPART_UNIX_USER:-$RUSER}"
    if ! getent passwd "$UUSER" >/dev/null; then
        useradd --create-home --shell /bin/bash "$UUSER"
        echo "quickstart: created Unix account $UUSER"
    fi
    PASSWORD="${RAMPART_PASSWORD:-}"
    GENERATED=0
    if [[ -z "$PASSWORD" ]]; then
        GENERATED=1
        PASSWORD="$(random_password)"
        while [[ "${PASSWORD,,}" == *"${RUSER,,}"* ]]; do PASSWORD="$(random_password)"; done
    fi
    printf '%s\n' "$PASSWORD" | /usr/local/bin/rampart user add "$RUSER" --unix-user "$UUSER" --password-stdin \
        --state-dir "$STATE_DIR" --config "$CONFIG"
    HOST="$(hostname -I 2>/dev/null | awk '{print $1}')"
    echo
    echo "Rampart user '$RUSER' (Unix account $UUSER) is enrolled. Log in from another machine with:"
    echo "    xfreerdp /v:${HOST:-THIS_HOST} /u:$RUSER /sec:nla"
    echo "  (or Windows Remote Desktop / Remmina to ${HOST:-THIS_HOST})"
    if ((GENERATED)); then
        echo "Password (shown only this once, write it down): $PASSWORD"
    fi
    echo "Two-step verification is on: scan the QR code above with an authenticator app;"
    echo "after the password, the remote screen asks for its 6-digit code (or a recovery code)."
    echo
fi

# 5. Serve in the foreground (Ctrl+C stops it).
exec /usr/local/bin/rampart serve --listen "$LISTEN" --state-dir "$STATE_DIR" --config "$CONFIG"
