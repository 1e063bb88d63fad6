#!/usr/bin/env bash
# Build the lab's vCenter simulator (lab/vcsim/*.go) into build/vcsim/vcsim with Debian's Go and
# Debian's govmomi in GOPATH mode: no module proxy, no download. Installs golang-go and
# golang-github-vmware-govmomi-dev when missing. Rebuilds only when a source is newer than the binary.
# Prints the binary's path.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$src/../.." && pwd -P)"
out="$root/build/vcsim"
bin="$out/vcsim"

missing=()
for pkg in golang-go golang-github-vmware-govmomi-dev; do
    if [[ "$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    echo "build.sh: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi

stale=0
if [[ ! -x "$bin" ]]; then
    stale=1
else
    for f in "$src"/*.go; do
        [[ "$f" -nt "$bin" ]] && stale=1
    done
fi

if ((stale)); then
    gopath="$out/gopath"
    pkgdir="$gopath/src/idmops.lifecycle/vcsim"
    rm -rf "$pkgdir" && mkdir -p "$pkgdir" "$out/gocache"
    cp "$src"/*.go "$pkgdir/"
    (
        cd "$pkgdir"
        GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS='' \
            GOCACHE="$out/gocache" go build -o "$bin.tmp" .
    )
    mv "$bin.tmp" "$bin"
fi
echo "$bin"
