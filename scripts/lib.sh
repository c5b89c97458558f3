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
