#!/usr/bin/env bash
# Build a local stand-in for the `debian:bookworm-slim` base image with
# debootstrap, for machines that cannot reach an image registry.
# Idempotent: does nothing when the image already exists.
#
# Usage: containers/make-base-image.sh [IMAGE]   (default debian:bookworm-slim)
# Env:   MIRROR   Debian mirror URI (default: the host's apt sources, else
#                 http://deb.debian.org/debian)
#        SUITE    default bookworm
# Needs root (debootstrap), docker, and debootstrap (installed via apt if missing).
set -euo pipefail

IMAGE="${1:-debian:bookworm-slim}"
SUITE="${SUITE:-bookworm}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "make-base-image: $IMAGE already exists, nothing to do"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "make-base-image: must run as root (debootstrap)" >&2
    exit 1
fi

# --- find the mirror the host's apt uses ------------------------------------
host_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: first URIs line of a stanza whose Suites contain $SUITE
        uri=$(awk -v s="$SUITE" '
            /^[[:space:]]*$/ { u=""; next }
            /^URIs:/ { u=$2 }
            /^Suites:/ { for (i=2;i<=NF;i++) if ($i==s && u!="") { print u; exit } }
        ' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk -v s="$SUITE" '$1=="deb" && $3==s { print $2; exit }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
}
MIRROR="${MIRROR:-$(host_mirror || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
echo "make-base-image: mirror $MIRROR, suite $SUITE"

APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false)
if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get "${APT_OPTS[@]}" update
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y debootstrap
fi

ROOTFS=$(mktemp -d /tmp/mailharness-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR"

# apt inside the image must accept a snapshot mirror's old Release files.
cat >"$ROOTFS/etc/apt/apt.conf.d/99snapshot" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
EOF
# Small images: no recommends, no docs.
cat >"$ROOTFS/etc/apt/apt.conf.d/99norecommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF

# Sources: the host's deb822 file when it exists (it carries -updates and
# -security), else a generated one for the chosen mirror.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/debian.sources"
else
    SEC_MIRROR="${MIRROR%/debian}/debian-security"
    cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SEC_MIRROR
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
rm -f "$ROOTFS/etc/apt/sources.list"

# Trim: package lists and caches are refetched by `apt-get update` in builds.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb

tar -C "$ROOTFS" -c . | docker import \
    -c 'CMD ["bash"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE"
echo "make-base-image: imported $IMAGE"
