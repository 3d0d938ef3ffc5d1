# bench/common.sh: the start the bench scripts share, sourced with the benchmark's name:
# the repository root as working folder, mgc in $mgc (built when missing) and a fresh,
# empty work folder ${TMPDIR:-/tmp}/mgc-bench-<name> in $work.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${TMPDIR:-/tmp}/mgc-bench-$1
mgc=build/mgc
[ -x $mgc ] || make build >/dev/null
rm -rf "$work"
