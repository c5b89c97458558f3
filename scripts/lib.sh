# scripts/lib.sh: helpers shared by bench.sh and test.sh. Source it; do not run it.
# Everything here prints what it is doing; failures print one line and exit non-zero.

say() { printf '[%s] %s\n' "$(basename "$0")" "$*"; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# as_root CMD...: run as root, through sudo when we are not root.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

# ensure_packages PKG...: apt-get install the Debian packages that are not installed yet.
# Runs 'apt-get update' at most once per script run, and only when something is missing.
TB_APT_UPDATED=0
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  say "installing missing Debian packages: ${missing[*]}"
  if [ "$TB_APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq || die "apt-get update failed"
    TB_APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed"
}

# The build toolchain and libraries every build needs.
TB_BUILD_PACKAGES=(g++ cmake make libbenchmark-dev libgtest-dev libtbb-dev libconcurrentqueue-dev)
# The Rust peer's crates, built offline from Debian's directory registry (bench/rust).
TB_RUST_CRATES=(librust-crossbeam-channel-dev librust-flume-dev librust-rayon-dev librust-libc-dev)

# ensure_peer_toolchains: what bench/rust and bench/go build with. The crates always come
# from Debian; rustc/cargo and go only when none is on PATH (a rustup toolchain is kept).
ensure_peer_toolchains() {
  ensure_packages "${TB_RUST_CRATES[@]}"
  command -v cargo >/dev/null 2>&1 && command -v rustc >/dev/null 2>&1 || ensure_packages rustc cargo
  command -v go >/dev/null 2>&1 || ensure_packages golang-go
}

# What plot.py / compare.py need (Debian's matplotlib and scipy serve /usr/bin/python3).
TB_PYTHON_PACKAGES=(python3 python3-matplotlib python3-scipy)

# find_python: print an interpreter that can import matplotlib and scipy. The python3 first
# on PATH may be another build without them (pyenv, venv); Debian's is /usr/bin/python3.
find_python() {
  local py
  for py in "${TB_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import matplotlib, scipy' >/dev/null 2>&1; then command -v "$py"; return 0; fi
  done
  return 1
}

# jobs for make: all cores
tb_jobs() { nproc 2>/dev/null || echo 2; }

# peer_options ARGS...: the command line the peers' run.sh share (bench/rust, bench/go), parsed
# once here. Sets out, filter, reps, min_time, context (empty when not given); quick=1 for
# --quick, check=1 for --check, and last_mode (default, quick or check: whichever came last);
# list=1 for --list, accepted only when the caller set peer_lists=1. Calls the caller's usage
# (for -h/--help) and usage_error (one line, exit 2); validating values is the caller's job.
peer_options() {
  out="" filter="" reps="" min_time="" context="" quick=0 check=0 list=0 last_mode=default
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) [ $# -ge 2 ] || usage_error "--out needs a FILE"; out=$2; shift ;;
      --out=*) out=${1#--out=} ;;
      --filter) [ $# -ge 2 ] || usage_error "--filter needs a REGEX"; filter=$2; shift ;;
      --filter=*) filter=${1#--filter=} ;;
      --repetitions) [ $# -ge 2 ] || usage_error "--repetitions needs a number"; reps=$2; shift ;;
      --repetitions=*) reps=${1#--repetitions=} ;;
      --min-time) [ $# -ge 2 ] || usage_error "--min-time needs a number of seconds"; min_time=$2; shift ;;
      --min-time=*) min_time=${1#--min-time=} ;;
      --context) [ $# -ge 2 ] || usage_error "--context needs k=v,k=v"; context=$2; shift ;;
      --context=*) context=${1#--context=} ;;
      --quick) quick=1 last_mode=quick ;;
      --check) check=1 last_mode=check ;;
      --list) [ "${peer_lists:-0}" = 1 ] || usage_error "unknown option '$1'"; list=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option '$1'" ;;
    esac
    shift
  done
}
