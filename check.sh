#!/usr/bin/env bash
# check.sh — quick start, part two: install what is missing, then
#   1. build with warnings as errors in build/ and run the test suite,
#   2. make distcheck (the release tarball builds and passes its tests),
#   3. build again with ASan+UBSan in build-asan/ and run the suite there,
#   4. make fuzz FUZZ_SECONDS=20 (libFuzzer over the pure parsers),
# and summarize it all.
#
#   sudo ./check.sh
#
# All builds are VPATH builds (build/, build-asan/): an in-tree build
# (./configure in the source folder, as demo.sh does) is cleaned first
# with make distclean, since automake refuses VPATH builds next to it.
# Check writes its per-test results to the automake logs (build*/t/*.log),
# not to the console; this prints them, then one last line
# "N passed, N failed, N skipped". distcheck counts as one check, each
# fuzz target as one. A test that cannot run on this machine (no root, no
# test user, no namespaces) says so in its log with a line
# "SKIP: FILE:LINE:TEST:ITERATION: reason" (t/harness_check.h) and counts
# as skipped, not passed; a test binary that cannot run at all exits 77
# (automake's SKIP) and counts as one skipped. Exit status: 0 only when
# no check failed and at least one passed.
set -eu

PACKAGES="build-essential autoconf automake pkg-config libfcgi-dev libyaml-dev libssl-dev"
PACKAGES="$PACKAGES check nginx-light curl python3"
# Tests: promtool (t/ops metrics), spawn-fcgi and systemd-socket-activate
# (t/ops socket activation), iproute2 (t/cluster network namespaces).
PACKAGES="$PACKAGES prometheus spawn-fcgi systemd iproute2"
# t/systemd: a Debian 12 tree made with debootstrap (cached in
# /var/cache/fnlauncher-test), booted with systemd-nspawn.
PACKAGES="$PACKAGES debootstrap systemd-container"
# make fuzz: clang with libFuzzer (the ASan build uses gcc's runtimes).
PACKAGES="$PACKAGES clang libclang-rt-14-dev"
# t/runtimes: the language runtimes it runs as functions (python3 is
# above); java + javac and go build its functions at test time.
PACKAGES="$PACKAGES perl php-cgi default-jdk-headless golang-go"
# schedule_tz (unit tests, t/events): the zones of /usr/share/zoneinfo.
PACKAGES="$PACKAGES tzdata"
# Node: Debian's nodejs only when there is no node where functions look
# for one (their PATH); another build (e.g. nodesource's nodejs 20) serves
# as well as Debian 12's nodejs 18.
has_node() {
	local d
	for d in /usr/local/bin /usr/bin /bin; do
		[ -x "$d/node" ] && return 0
	done
	return 1
}
has_node || PACKAGES="$PACKAGES nodejs"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# distcheck checks the packaging: the tarball builds everything, tests
# included, with -Werror from read-only sources, passes these suites and
# cleans up after itself. The daemon suites already run twice (build/,
# build-asan/), and their timing checks do not belong next to the -j2
# build distcheck runs them in.
DISTCHECK_TESTS=${DISTCHECK_TESTS:-t/unit}
# Sanitizer build: every report is fatal, and lands in a file
# (build-asan/sanitizer.PROGRAM.PID) as well, so none can go unseen.
ASAN_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
ASAN_LDFLAGS="-fsanitize=address,undefined"

cd -- "$(dirname -- "$(readlink -f -- "$0")")"

# Each step with the time since the start, to see where the minutes go.
say() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
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

# Autoreconf a fresh checkout; clean an in-tree build, which would make
# configure refuse the VPATH builds ("source directory already
# configured").
prepare_source() {
	if [ ! -x ./configure ]; then
		say "Generating ./configure (autoreconf -fi)"
		autoreconf -fi || return 1
	fi
	if [ -f config.status ]; then
		say "Cleaning the in-tree build (make distclean): builds go to build*/"
		if [ -f Makefile ]; then
			make distclean >/dev/null || return 1
		fi
		[ ! -f config.status ] ||
			die "config.status is left in the source folder; remove it"
	fi
}

# build DIR CONFIGURE-ARGS...: configure and build in DIR (a VPATH build).
build() {
	local dir=$1
	shift
	say "Building in $dir/ (../configure $*; make -j2)"
	# Called as "build ... || ...", where set -e is off: check each step.
	mkdir -p "$dir" && (cd "$dir" && ../configure "$@" && make -j2)
}

# Print the Check lines of one test log and add them up into the globals.
# A log without a Check summary means the binary died (crash, abort,
# timeout, missing): show its tail and count it as one failure; unless
# automake says SKIP (exit 77): one skipped.
# A test that said SKIP ("SKIP: FILE:LINE:TEST:I: reason") passed in
# Check's eyes: it is counted as skipped instead, unless Check also has a
# failure for that TEST:I (a teardown that failed after the skip).
# LABEL goes in front of the test's name (its path in the build folder).
report_log() {
	local log=$1 trs=$2 label=$3 result counts c f e s name
	result=$(sed -n 's/^:test-result: *//p' "$trs" 2>/dev/null | head -n 1)
	name=${log#*/}
	printf '\n--- %s%s: %s\n' "$label" "${name%.log}" "${result:-no result}"

	# Summary lines, e.g. "87%: Checks: 8, Failures: 1, Errors: 0",
	# per-test failures/errors, e.g. "t/x.c:12:F:tcase:test_y:0: msg"
	# (S: in a fixture), and skips.
	grep -E '^Running suite|[0-9]+%: Checks: [0-9]+|^[^:]+:[0-9]+:[EFS]:|^SKIP: ' \
		"$log" 2>/dev/null || true

	counts=$(awk '
		match($0, /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/) {
			s = substr($0, RSTART, RLENGTH)
			gsub(/[^0-9]+/, " ", s)
			split(s, n, " ")
			c += n[1]; f += n[2]; e += n[3]; found = 1
		}
		/^[^:]+:[0-9]+:[EFS]:[^:]*:[^:]+:[0-9]+:/ {
			split($0, x, ":")
			bad[x[5] ":" x[6]] = 1
		}
		/^SKIP: [^:]+:[0-9]+:[^:]+:[0-9]+: / {
			split(substr($0, 7), x, ":")
			skip[x[3] ":" x[4]] = 1
		}
		END {
			for (t in skip)
				if (!(t in bad))
					k++
			if (found)
				print c + 0, f + 0, e + 0, k + 0
		}' "$log" 2>/dev/null) ||
		counts=

	if [ -z "$counts" ]; then
		case $result in
		SKIP)
			echo "(skipped: the binary cannot run here)"
			SKIPPED=$((SKIPPED + 1))
			return 0
			;;
		esac
		echo "no Check summary: the test binary did not finish; last lines:"
		tail -n 25 "$log" | sed 's/^/    /'
		FAILED=$((FAILED + 1))
		return 0
	fi

	read -r c f e s <<<"$counts"
	# Each skipped test ended as a pass in Check's count.
	[ "$s" -le $((c - f - e)) ] || s=$((c - f - e))
	PASSED=$((PASSED + c - f - e - s))
	FAILED=$((FAILED + f + e))
	SKIPPED=$((SKIPPED + s))
	# Check says all passed, but the binary still failed (e.g. a sanitizer
	# report or a crash after the run): count that too.
	if [ $((f + e)) -eq 0 ] && [ -n "$result" ] &&
		[ "$result" != PASS ] && [ "$result" != SKIP ]; then
		echo "all checks passed but the test binary ended with $result; last lines:"
		tail -n 25 "$log" | sed 's/^/    /'
		FAILED=$((FAILED + 1))
	fi
}

# Report the test logs of build folder DIR, each labelled LABEL. Returns
# 1 when there was none.
report_dir() {
	local dir=$1 label=$2 trs ran=0
	for trs in "$dir"/t/*.trs; do
		[ -f "$trs" ] || continue
		ran=1
		report_log "${trs%.trs}.log" "$trs" "$label"
	done
	if [ $ran -eq 0 ]; then
		echo "no test log found ($dir/t/*.log): nothing ran"
		return 1
	fi
}

# run_check DIR [TESTS=...] [NAME=VALUE...]: make check in DIR, with
# TESTS passed to make and the rest put in the environment. Check's
# per-test lines go to the logs, not here.
run_check() {
	local dir=$1 tests=
	shift
	case ${1-} in
	TESTS=*)
		tests=${1#TESTS=}
		shift
		;;
	esac
	say "Running make check in $dir/${tests:+ (TESTS: $tests)}"
	if [ -n "$tests" ]; then
		(cd "$dir" && env "$@" make check TESTS="$tests") || true
	else
		(cd "$dir" && env "$@" make check) || true
	fi
}

# The TESTS of build folder DIR, as its Makefile has them.
tests_of() {
	# shellcheck disable=SC2016 # $(TESTS) is for make
	(cd "$1" && printf 'fnl-print-tests:\n\t@echo $(TESTS)\n' |
		make -s -f Makefile -f - fnl-print-tests)
}

# make distcheck from build/: the tarball builds (VPATH, read-only
# sources, -Werror) and passes DISTCHECK_TESTS. One check.
run_distcheck() {
	local log=build/distcheck.log
	say "Running make distcheck TESTS='$DISTCHECK_TESTS' (output in $log)"
	if (cd build && make -j2 distcheck TESTS="$DISTCHECK_TESTS" \
		DISTCHECK_CONFIGURE_FLAGS=--enable-werror) >"$log" 2>&1; then
		printf '\n--- distcheck: PASS\n'
		grep -A 1 'archives ready for distribution' "$log" || true
		PASSED=$((PASSED + 1))
	else
		printf '\n--- distcheck: FAIL; last lines of %s:\n' "$log"
		tail -n 40 "$log" | sed 's/^/    /'
		# The failed checks, from the unpacked tarball's build.
		grep -hE '[0-9]+%: Checks: [0-9]+|^[^:]+:[0-9]+:[EFS]:' \
			build/fnlauncher-*/_build/sub/t/*.log 2>/dev/null || true
		FAILED=$((FAILED + 1))
	fi
}

# The whole project again with ASan+UBSan in build-asan/, and its test
# suite with every report fatal. The daemon runs there too (integration
# tests); it never runs under RLIMIT_AS, which ASan cannot live with,
# and the functions it spawns with limits are scripts and system binaries.
run_asan() {
	local dir=build-asan failed_before=$FAILED f rest
	local asan_log="log_path=$PWD/$dir/sanitizer:log_exe_name=1"
	rm -f "$dir"/sanitizer.* "$dir"/t/*.log "$dir"/t/*.trs \
		"$dir"/test-suite.log
	# Without -Werror: instrumented code at -O1 draws warnings (e.g.
	# -Wformat-truncation ranges) that the -O2 build does not; build/
	# is the one that holds the code to zero warnings.
	if ! build "$dir" CFLAGS="$ASAN_CFLAGS" LDFLAGS="$ASAN_LDFLAGS"; then
		echo "check.sh: the ASan+UBSan build failed; its tests did not run" >&2
		FAILED=$((FAILED + 1))
		return 0
	fi
	# LeakSanitizer for the unit tests (pure code, every test forked by
	# Check: a leak fails that test); not for the daemon suites, whose
	# processes end by signal or leave libfcgi's allocations behind.
	rest=$(tests_of "$dir" | tr ' ' '\n' | grep -vx 't/unit' | tr '\n' ' ')
	run_check "$dir" TESTS=t/unit \
		ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:$asan_log" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:$asan_log"
	if [ -n "${rest// /}" ]; then
		run_check "$dir" TESTS="$rest" \
			ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:$asan_log" \
			UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:$asan_log"
	fi
	say "Test results (ASan+UBSan build)"
	report_dir "$dir" "ASan+UBSan build: " || FAILED=$((FAILED + 1))
	for f in "$dir"/sanitizer.*; do
		[ -f "$f" ] || continue
		printf '\n--- sanitizer report %s:\n' "$f"
		head -n 60 "$f" | sed 's/^/    /'
		# A report from a process whose exit nobody checked still fails.
		[ "$FAILED" -gt "$failed_before" ] || FAILED=$((FAILED + 1))
	done
}

# make fuzz in build/: each libFuzzer target for FUZZ_SECONDS, one check
# per target ("FUZZ PASS: ..." / "FUZZ FAIL: ..." lines).
run_fuzz() {
	local log=build/fuzz.log rc=0 p f
	say "Running make fuzz FUZZ_SECONDS=$FUZZ_SECONDS (output in $log)"
	(cd build && make -j2 fuzz FUZZ_SECONDS="$FUZZ_SECONDS") >"$log" 2>&1 ||
		rc=$?
	grep -v '^  CCLD ' "$log" | sed 's/^/    /' || true
	p=$(grep -c '^FUZZ PASS:' "$log") || true
	f=$(grep -c '^FUZZ FAIL:' "$log") || true
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "make fuzz failed before running its targets (see above)"
		FAILED=$((FAILED + 1))
	fi
}

main() {
	PASSED=0
	FAILED=0
	SKIPPED=0

	install_missing
	prepare_source || die "could not prepare the source folder"
	if ! build build --enable-werror; then
		echo "check.sh: the build failed; no test ran" >&2
		echo
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	rm -f build/t/*.log build/t/*.trs build/test-suite.log
	run_check build
	say "Test results"
	report_dir build "" || FAILED=$((FAILED + 1))

	run_distcheck
	run_asan
	run_fuzz

	echo
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	if [ "$FAILED" -ne 0 ] || [ "$PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

main "$@"
