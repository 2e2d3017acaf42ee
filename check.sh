#!/usr/bin/env bash
# check.sh — quick start, part two: install what is missing, build with
# warnings as errors, run the test suite, and summarize it.
#
#   sudo ./check.sh
#
# Check writes its per-test results to the automake logs (t/*.log), not to
# the console; this prints them, then one last line "N passed, N failed".
# Exit status: 0 only when every check passed and at least one ran.
set -eu

PACKAGES="build-essential autoconf automake pkg-config libfcgi-dev libyaml-dev"
PACKAGES="$PACKAGES check nginx-light curl python3"
# Tests: promtool (t/ops metrics), spawn-fcgi and systemd-socket-activate
# (t/ops socket activation), iproute2 (t/cluster network namespaces).
PACKAGES="$PACKAGES prometheus spawn-fcgi systemd iproute2"

cd -- "$(dirname -- "$(readlink -f -- "$0")")"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'check.sh: %s\n' "$*" >&2; exit 1; }

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# True when PKG (or, for nginx-light, any nginx flavour) is installed.
installed() {
	local p
	case $1 in
	nginx-light) set -- nginx-light nginx-core nginx-full nginx-extras nginx ;;
	pkg-config) set -- pkg-config pkgconf ;;
	esac
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' && return 0
	done
	return 1
}

install_missing() {
	local p missing=
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "dpkg-query not found; assuming the build dependencies are there"
		return 0
	fi
	for p in $PACKAGES; do
		installed "$p" || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		say "Packages: all present"
		return 0
	fi
	say "Installing:$missing"
	if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
		die "not root and no sudo: run as root"
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
	# shellcheck disable=SC2086 # word splitting of the list is wanted
	$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $missing </dev/null
}

build() {
	say "Building (./configure --enable-werror; make -j2)"
	# Called as "build || ...", where set -e is off: check each step.
	if [ ! -x ./configure ]; then
		autoreconf -fi || return 1
	fi
	./configure --enable-werror || return 1
	make -j2 || return 1
}

# Print the Check lines of one test log and add them up into the globals.
# A log without a Check summary means the binary died (crash, abort,
# timeout, missing): show its tail and count it as one failure.
report_log() {
	local log=$1 trs=$2 result counts c f e
	result=$(sed -n 's/^:test-result: *//p' "$trs" 2>/dev/null | head -n 1)
	printf '\n--- %s: %s\n' "${log%.log}" "${result:-no result}"

	# Summary lines, e.g. "87%: Checks: 8, Failures: 1, Errors: 0", and
	# per-test failures/errors, e.g. "t/x.c:12:F:tcase:test_y:0: msg".
	grep -E '^Running suite|[0-9]+%: Checks: [0-9]+|^[^:]+:[0-9]+:[EF]:' \
		"$log" 2>/dev/null || true

	counts=$(awk '
		match($0, /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/) {
			s = substr($0, RSTART, RLENGTH)
			gsub(/[^0-9]+/, " ", s)
			split(s, n, " ")
			c += n[1]; f += n[2]; e += n[3]; found = 1
		}
		END { if (found) print c + 0, f + 0, e + 0 }' "$log" 2>/dev/null) ||
		counts=

	if [ -z "$counts" ]; then
		case $result in
		SKIP)
			echo "(skipped)"
			return 0
			;;
		esac
		echo "no Check summary: the test binary did not finish; last lines:"
		tail -n 25 "$log" | sed 's/^/    /'
		FAILED=$((FAILED + 1))
		return 0
	fi

	read -r c f e <<<"$counts"
	PASSED=$((PASSED + c - f - e))
	FAILED=$((FAILED + f + e))
	# Check says all passed, but the binary still failed (e.g. a sanitizer
	# report or a crash after the run): count that too.
	if [ $((f + e)) -eq 0 ] && [ -n "$result" ] &&
		[ "$result" != PASS ] && [ "$result" != SKIP ]; then
		echo "all checks passed but the test binary ended with $result; last lines:"
		tail -n 25 "$log" | sed 's/^/    /'
		FAILED=$((FAILED + 1))
	fi
}

main() {
	local built=1 trs ran=0
	PASSED=0
	FAILED=0

	install_missing
	# Drop results of earlier runs so only this run is counted.
	rm -f t/*.log t/*.trs test-suite.log
	build || built=0

	if [ $built -eq 1 ]; then
		say "Running make check"
		make check || true
	else
		echo "check.sh: the build failed; no test ran" >&2
	fi

	say "Test results"
	for trs in t/*.trs; do
		[ -f "$trs" ] || continue
		ran=1
		report_log "${trs%.trs}.log" "$trs"
	done
	if [ $ran -eq 0 ]; then
		echo "no test log found (t/*.log): nothing ran"
	fi

	echo
	echo "$PASSED passed, $FAILED failed"
	if [ $ran -eq 0 ] || [ "$FAILED" -ne 0 ] || [ "$PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

main "$@"
