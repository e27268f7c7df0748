#!/bin/sh
# make-package.sh REPO VERSION MESSAGE [PAD-KB]: builds hello-jcicd VERSION (a
# script printing MESSAGE, plus PAD-KB of data) with dpkg-deb, puts it in REPO
# (replacing other versions) and indexes REPO with apt-ftparchive: a build
# repository for the pipeline tests.
set -e
repo=$1; v=$2; msg=$3; pad=${4:-0}
b=$(mktemp -d); mkdir -p "$b/DEBIAN" "$b/usr/bin" "$repo/pool/main" "$repo/dists/unstable/main/binary-amd64"
printf 'Package: hello-jcicd\nVersion: %s\nArchitecture: amd64\nMaintainer: jcicd <dev@jcicd.invalid>\nDescription: says hello\n' "$v" >"$b/DEBIAN/control"
printf '#!/bin/sh\necho "%s"\n' "$msg" >"$b/usr/bin/hello-jcicd"; chmod 755 "$b/usr/bin/hello-jcicd"
if [ "$pad" -gt 0 ]; then
	mkdir -p "$b/usr/share/hello-jcicd"
	head -c "$((pad * 1024))" /dev/urandom >"$b/usr/share/hello-jcicd/data"
fi
rm -f "$repo"/pool/main/hello-jcicd_*.deb
dpkg-deb --root-owner-group -b "$b" "$repo/pool/main/hello-jcicd_${v}_amd64.deb" >/dev/null
rm -rf "$b"; cd "$repo"
apt-ftparchive packages pool/main >dists/unstable/main/binary-amd64/Packages
gzip -kf dists/unstable/main/binary-amd64/Packages
apt-ftparchive -o APT::FTPArchive::Release::Suite=unstable -o APT::FTPArchive::Release::Codename=unstable \
 -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=amd64 release dists/unstable >dists/unstable/Release.new
mv dists/unstable/Release.new dists/unstable/Release
