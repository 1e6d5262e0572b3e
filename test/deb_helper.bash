# The Debian package, built once per bats run and shared by the suites
# that need it (test/deb.bats, test/systemd.bats): "make deb" in a copy
# of the tree under $BATS_RUN_TMPDIR, which bats removes at the end.
# Load after helper.bash.

# deb_tools: true when dpkg-buildpackage, debhelper and lintian are here.
deb_tools() {
	command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null &&
	    command -v dh >/dev/null
}

# deb_build: build the package unless this run already did (the first
# caller builds, the others wait for it).  Sets DEB_LOG, the build's
# output, and DEB, the .deb ("" when the build failed).
deb_build() {
	local dir="$BATS_RUN_TMPDIR/hellod-deb" version
	DEB_LOG="$dir/deb.log"
	(
		flock 9
		[ -e "$dir/done" ] && exit 0
		rm -rf "$dir"
		mkdir -p "$dir/src"
		tar -C "$TOP" --exclude=.git --exclude='*.o' --exclude='*.a' \
		    --exclude=debian-build -cf - . | tar -C "$dir/src" -xf -
		make -C "$dir/src" deb >"$DEB_LOG" 2>&1 ||
		    echo "make deb: exit $?" >>"$DEB_LOG"
		touch "$dir/done"
	) 9>"$BATS_RUN_TMPDIR/hellod-deb.lock"
	version=$(hellod -V | sed 's/^hellod[/ ]//')
	DEB=$(ls "$dir/src/debian-build/hellod_${version}_"*.deb 2>/dev/null || true)
}
