#!/usr/bin/env bash
# Times the README's first command on a fresh Debian 12: a minimal system made with debootstrap in a
# folder, given only what a new machine of this kind has (Node.js and npm, python3, make, g++, git,
# the machine's CA certificates and npm settings), an empty npm cache and no apt lists. A clone of
# this repository's HEAD then runs scripts/quickstart.sh; the figure is the time until the demo says
# "Press Ctrl-C to stop." Needs root, debootstrap and the Debian mirror; takes about five minutes.
#   bench/quickstart/run.sh [work dir, default /tmp/spine-cds-fresh-root]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-/tmp/spine-cds-fresh-root}
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

cleanup() {
  pkill -f "$root/root/spine-cds" 2>/dev/null || true
  chroot "$root" pkill -f 'main.js demo' 2>/dev/null || true
  chroot "$root" pkill Orthanc 2>/dev/null || true
  for d in dev/pts dev sys proc; do mountpoint -q "$root/$d" && umount -l "$root/$d"; done
  return 0
}
trap cleanup EXIT
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

echo "Making a fresh Debian 12 in $root…"
rm -rf "$root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
for d in proc sys dev dev/pts; do mount --bind "/$d" "$root/$d"; done
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"; rm -f "$root/etc/apt/sources.list"; fi
chroot "$root" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ git ca-certificates procps >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*'
# The machine's own CA bundle: it may hold the CA of a proxy on the way to the npm registry.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp -a "$(command -v node)" "$root/usr/bin/node"
mkdir -p "$root/usr/lib/node_modules" "$root/usr/include" "$root/usr/etc"
cp -a /usr/lib/node_modules/npm "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
[[ -d /usr/include/node ]] && cp -a /usr/include/node "$root/usr/include/node"
for f in /etc/npmrc /usr/etc/npmrc /root/.npmrc; do [[ -f $f ]] && cp "$f" "$root$f"; done
git clone -q "$repo" "$root/root/spine-cds"

echo "Running scripts/quickstart.sh there (the demo's ports 8080-8083 must be free)…"
log="$root/quickstart.log"
chroot "$root" bash -c 'cd /root/spine-cds && exec ./scripts/quickstart.sh' >"$log" 2>&1 &
started=$(date +%s.%N)
mark() { awk -v now="$(date +%s.%N)" -v t0="$started" -v what="$1" 'BEGIN { printf "%6.1f s  %s\n", now - t0, what }'; }
seen_npm=0 seen_build=0
while :; do
  if ((seen_npm == 0)) && grep -q '^added [0-9]* packages' "$log"; then mark "npm ci done ($(grep -o '^added [0-9]* packages' "$log"))"; seen_npm=1; fi
  if ((seen_build == 0)) && grep -q 'everything .* gzip → dist/smart-app' "$log"; then mark 'build done'; seen_build=1; fi
  if grep -q 'Press Ctrl-C to stop.' "$log"; then mark 'demo ready ("Press Ctrl-C to stop.")'; break; fi
  if ! jobs %1 >/dev/null 2>&1; then echo "quickstart.sh stopped before the demo was ready:"; tail -30 "$log"; exit 1; fi
  sleep 0.5
done
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8082/)
echo "EHR simulator at http://127.0.0.1:8082/ answers $code; the log is $log"
grep -E 'Ready in|Loaded [0-9]+ radiographs' "$log" || true
[[ $code == 200 ]]
