#!/usr/bin/env bash
# Builds the Debian package: rampart_VERSION_ARCH.deb with the binary, the systemd unit,
# the default config (a conffile), man pages and shell completions generated from the
# binary's own command-line definitions, and maintainer scripts that create the state
# directory. Plain dpkg-deb (dpkg-dev for the library dependencies); no cargo-deb needed.
# Compressed with gzip rather than xz: a quarter of the build time on a busy 2-core
# machine, for a package a third larger.
#
#   packaging/build-deb.sh [--binary PATH] [--out DIR]
#
#   --binary PATH  package this rampart binary (default: cargo build --release -p rampart)
#   --out DIR      where to write the .deb (default: target/debian)
#
# The version comes from Cargo.toml ([workspace.package] version); the binary must report
# the same one. Prints the path of the .deb on the last line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT_DIR="$PWD"

die() { echo "build-deb: $*" >&2; exit 1; }

BINARY=""
OUT="$ROOT_DIR/target/debian"
while (($#)); do
    case "$1" in
        --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
        --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

for tool in dpkg-deb dpkg-shlibdeps gzip strip; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install dpkg-dev binutils gzip"
done

# The version of the workspace, from the [workspace.package] table.
VERSION="$(awk '
    /^\[/ { in_pkg = ($0 == "[workspace.package]") }
    in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }
' Cargo.toml)"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "no [workspace.package] version in Cargo.toml"

if [[ -z "$BINARY" ]]; then
    cargo build --release -p rampart
    BINARY="$ROOT_DIR/target/release/rampart"
fi
[[ -x "$BINARY" ]] || die "$BINARY is not an executable"
REPORTED="$("$BINARY" --version)"
[[ "$REPORTED" == "rampart $VERSION" ]] || die "$BINARY reports \"$REPORTED\", Cargo.toml says $VERSION: rebuild it"

ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/rampart"

install -d -m 0755 "$PKG/DEBIAN" "$PKG/usr/sbin" "$PKG/lib/systemd/system" "$PKG/etc/rampart" \
    "$PKG/usr/share/man/man8" "$PKG/usr/share/doc/rampart" \
    "$PKG/usr/share/bash-completion/completions" "$PKG/usr/share/zsh/vendor-completions" \
    "$PKG/usr/share/fish/vendor_completions.d"

# Binary, stripped of debug information as Debian packages are.
install -m 0755 "$BINARY" "$PKG/usr/sbin/rampart"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$PKG/usr/sbin/rampart"

install -m 0644 packaging/rampart.service "$PKG/lib/systemd/system/rampart.service"
# Every key at its default: what `rampart check` passes on.
install -m 0644 rampart.example.toml "$PKG/etc/rampart/rampart.toml"

# Man pages and completions from the CLI definitions of the binary being packaged.
"$BINARY" man "$STAGE/man" >/dev/null
for page in "$STAGE"/man/*.8; do
    gzip -9n -c "$page" >"$PKG/usr/share/man/man8/$(basename "$page").gz"
done
chmod 0644 "$PKG"/usr/share/man/man8/*.gz
"$BINARY" completions bash >"$PKG/usr/share/bash-completion/completions/rampart"
"$BINARY" completions zsh >"$PKG/usr/share/zsh/vendor-completions/_rampart"
"$BINARY" completions fish >"$PKG/usr/share/fish/vendor_completions.d/rampart.fish"

# Documentation.
install -m 0644 README.md docs/config.md docs/security.md "$PKG/usr/share/doc/rampart/"
cat >"$PKG/usr/share/doc/rampart/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: rampart

Files: *
Copyright: The Rampart developers
License: MIT or Apache-2.0
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
EOF
printf 'rampart (%s) unstable; urgency=medium\n\n  * Package built from the Rampart source tree.\n\n -- Rampart developers <rampart@localhost>  %s\n' \
    "$VERSION" "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")" | gzip -9n >"$PKG/usr/share/doc/rampart/changelog.Debian.gz"
chmod 0644 "$PKG"/usr/share/doc/rampart/*

# Library dependencies of the binary, as dpkg-shlibdeps finds them (libc6, libgcc-s1);
# the X server of the default [session] x_server = "xorg" (Xorg with the dummy driver;
# Xvfb, for x_server = "xvfb", is only suggested).
mkdir -p "$STAGE/shlibs/debian"
printf 'Source: rampart\n\nPackage: rampart\nArchitecture: any\n' >"$STAGE/shlibs/debian/control"
SHLIBS="$(cd "$STAGE/shlibs" && dpkg-shlibdeps -O -e"$PKG/usr/sbin/rampart" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[[ -n "$SHLIBS" ]] || die "dpkg-shlibdeps found no library dependencies for $BINARY"

INSTALLED_KB="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
# (Unquoted here-document: $VERSION and friends expand, so no backquotes below.)
cat >"$PKG/DEBIAN/control" <<EOF
Package: rampart
Version: $VERSION
Architecture: $ARCH
Maintainer: Rampart developers <rampart@localhost>
Installed-Size: $INSTALLED_KB
Depends: $SHLIBS, xserver-xorg-core, xserver-xorg-video-dummy
Recommends: openbox | x-window-manager, xterm | x-terminal-emulator
Suggests: xvfb
Section: net
Priority: optional
Description: hardened RDP server for Linux
 Rampart is a Remote Desktop Protocol server written in Rust with the RDP
 hardening guide built in and on by default: Network Level Authentication
 (CredSSP) only, TLS only, TOTP two-step verification, brute-force bans,
 per-source limits on unauthenticated connections and an audit trail.
 .
 No account exists after installation: enroll one with "rampart user add",
 then "systemctl enable --now rampart". "rampart check" audits the
 configuration and the host against the hardening items.
EOF

printf '/etc/rampart/rampart.toml\n' >"$PKG/DEBIAN/conffiles"

cat >"$PKG/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    # State: the user store, host key and TLS identity. Root only.
    install -d -m 0700 -o root -g root /var/lib/rampart
    chmod 0700 /var/lib/rampart
    chown root:root /var/lib/rampart
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null 2>&1 || true
        # An upgrade restarts a running server; a first install starts nothing: there is
        # no account yet (`rampart user add`, then `systemctl enable --now rampart`).
        if [ -n "$2" ]; then
            systemctl try-restart rampart.service >/dev/null 2>&1 || true
        fi
    fi
fi
exit 0
EOF

cat >"$PKG/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop rampart.service >/dev/null 2>&1 || true
fi
exit 0
EOF

cat >"$PKG/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
case "$1" in
    remove | purge)
        if [ -d /run/systemd/system ]; then
            systemctl daemon-reload >/dev/null 2>&1 || true
        fi
        ;;
esac
if [ "$1" = purge ] && [ -d /var/lib/rampart ]; then
    # The store holds the users, their sealed secrets and the audit trail: never deleted
    # by a package operation.
    echo "rampart: /var/lib/rampart (user store, host key, audit trail) is kept; remove it by hand" >&2
fi
exit 0
EOF
chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"

mkdir -p "$OUT"
DEB="$OUT/rampart_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
