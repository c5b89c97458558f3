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

# find_python [MODULES]: print an interpreter that can import MODULES (a comma-separated
# import list; default "matplotlib, scipy", what plot.py and compare.py need; "sys" for the
# standard library alone). The one search for a Python: bench.sh, ab.sh, icount.sh, the
# peers' run.sh and scripts/CMakeLists.txt (which sources this file and runs find_python)
# all use it. Candidates in order: $TB_PYTHON, the python3 first on PATH (it may be another
# build without matplotlib: pyenv, venv), Debian's /usr/bin/python3.
find_python() {
  local py modules=${1:-matplotlib, scipy}
  for py in "${TB_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c "import $modules" >/dev/null 2>&1; then command -v "$py"; return 0; fi
  done
  return 1
}

# tb_reset_signals ARGS...: call first, with the script's own arguments. A script started
# in the background by a non-interactive shell inherits SIGINT ignored, and bash can neither
# trap nor reset a signal that was ignored when it started: `kill -INT` would do nothing.
# When INT or TERM arrived ignored, the script runs itself again with both at their defaults
# (coreutils env --default-signal), so its traps work. TB_SELF: the script's absolute path.
tb_reset_signals() {
  local ign
  [ -z "${TB_SIGNALS_RESET:-}" ] || return 0
  ign=$(awk '/^SigIgn:/ { print $2 }' "/proc/$$/status" 2>/dev/null || true)
  [[ "$ign" =~ ^[0-9a-fA-F]+$ ]] || return 0
  # signal n is bit n-1: SIGINT (2) 0x2, SIGTERM (15) 0x4000
  (( (16#$ign & 16#4002) != 0 )) || return 0
  env --default-signal=INT,TERM true 2>/dev/null || return 0
  export TB_SIGNALS_RESET=1
  exec env --default-signal=INT,TERM bash "$TB_SELF" "$@"
}

# tb_split_options ARGS...: TB_ARGS, ARGS with every --option=value split into --option
# value, so that each script's parser knows one form and both are accepted everywhere.
tb_split_options() {
  TB_ARGS=()
  local a
  for a in "$@"; do
    if [[ "$a" =~ ^(--[A-Za-z][-A-Za-z0-9]*)=(.*)$ ]]; then
      TB_ARGS+=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
    else
      TB_ARGS+=("$a")
    fi
  done
}

# How many samples a row gets, in one place (bench.sh, ab.sh, pack.sh's bundle and the
# peers' run.sh all take these): 8 fresh processes of 1 repetition of at least 0.05 s, so
# 8 samples a row taken at 8 different times of the run; --quick 1 x 1 at 0.01 s. Why one
# repetition and not 4 x 2: on the 2-vCPU VM the host's state changes over seconds (the
# clock of a fixed loop moved 3.1-3.6 GHz and a mutex_deque row switched between ~15 and
# ~28 us an iteration in blocks of seconds inside one process), so two adjacent repetitions
# are one draw of that state. Two default runs of one build (results/reference/
# epyc-2vcpu-aa-1/README.md): a row's median moved 8.1% between them with 4 x 2 and 4.6%
# with 8 x 1. One round costs ~19 s of searching for iteration counts plus ~59 s a
# repetition here, so 8 x 1 takes ~620-650 s against ~550 s for 4 x 2.
tb_default_processes=8 tb_default_reps=1 tb_default_min_time=0.05
# tb_sample_defaults: fill processes, reps and min_time where unset, from $quick.
tb_sample_defaults() {
  if [ "${quick:-0}" = 1 ]; then
    processes=${processes:-1} reps=${reps:-1} min_time=${min_time:-0.01}
  else
    processes=${processes:-$tb_default_processes} reps=${reps:-$tb_default_reps}
    min_time=${min_time:-$tb_default_min_time}
  fi
}

# The run settings bench.sh and pack.sh share. tb_run_defaults sets them unset (empty: the
# script's default applies later); tb_run_option parses one of them from ARGS (its value
# as the next argument), sets TB_TAKEN to the arguments it used, and returns 1 when $1 is
# not one of them; tb_check_run_options [FAIL] calls FAIL (default die) with one line on a
# bad value (ab.sh passes its usage_error).
tb_run_defaults() {
  quick=0 filter="" reps="" min_time="" processes="" build=1 bin_dir=build/release/bench
  peers=1 wait_quiet=0 pin=0
}
tb_value() { [ $# -ge 4 ] && [[ "$4" != --* ]] || die "$1 needs $2"; }
tb_run_option() {
  TB_TAKEN=2
  case "$1" in
    --filter) tb_value --filter "a REGEX" "$@"; filter=$2 ;;
    --repetitions) tb_value --repetitions "a number" "$@"; reps=$2 ;;
    --processes) tb_value --processes "a number" "$@"; processes=$2 ;;
    --min-time) tb_value --min-time "a number of seconds" "$@"; min_time=$2 ;;
    --wait-quiet) tb_value --wait-quiet "a number of seconds" "$@"; wait_quiet=$2 ;;
    --bin-dir) tb_value --bin-dir "a folder" "$@"; bin_dir=$2; build=0 ;;
    *) TB_TAKEN=1
       case "$1" in
         --quick) quick=1 ;;
         --no-peers) peers=0 ;;
         --pin) pin=1 ;;
         --no-build) build=0 ;;
         *) return 1 ;;
       esac ;;
  esac
}
tb_check_run_options() {
  local fail=${1:-die}
  [ -z "$reps" ] || tb_is_count "$reps" || "$fail" "--repetitions must be a positive integer, got '$reps'"
  [ -z "$processes" ] || tb_is_count "$processes" || "$fail" "--processes must be a positive integer, got '$processes'"
  [ -z "$min_time" ] || tb_is_seconds "$min_time" || "$fail" "--min-time must be a positive number of seconds, got '$min_time'"
  [ -z "$filter" ] || tb_check_regex --filter "$filter" "$fail"
  [[ "$wait_quiet" =~ ^[0-9]+$ ]] || "$fail" "--wait-quiet must be a whole number of seconds, got '$wait_quiet'"
}

# tb_is_seconds VALUE: a plain positive number of seconds (0.05, 2); zero, negative and
# exponent forms are refused.
tb_is_seconds() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]] && [[ "$1" =~ [1-9] ]]; }

# tb_check_regex WHAT REGEX [FAIL]: when REGEX is not a valid extended regular expression
# (what Google Benchmark's --benchmark_filter and the peers take), calls FAIL (default die)
# with one line that says so.
tb_check_regex() {
  local err rc=0
  err=$(printf '' | grep -E -- "$2" 2>&1) || rc=$?
  [ $rc -le 1 ] || "${3:-die}" "$1 '$2' is not a valid regular expression (grep -E: ${err#grep: })"
}

# tb_bench_targets BUILD_DIR: the *_bench targets of a configured Makefile build, one a line
# (what a benchmark run needs: not the tests, not the stress harnesses).
tb_bench_targets() {
  cmake --build "$1" --target help | sed -n 's/^\.\.\. \([A-Za-z0-9_]*_bench\)\( .*\)\{0,1\}$/\1/p'
}

# tb_build_progress LOG: one line of how far a build whose output goes to LOG has come (make's
# last "[ NN%]" and what it was building), for TB_PROGRESS while it runs.
tb_build_progress() {
  local line
  line=$(grep -o '^\[ *[0-9]*%\] [A-Za-z]* .*' "$1" 2>/dev/null | tail -1 || true)
  [ -n "$line" ] || return 0
  say "  build ${line%% *}$(echo "$line" | sed -n 's/.*\/\([^/]*\)\.o$/ (\1)/p; s/.*Linking CXX executable \(.*\)/ (linking \1)/p' | head -1)"
}

# jobs for make: all cores
tb_jobs() { nproc 2>/dev/null || echo 2; }

# tb_build_benchmarks: configure build/release and build only its *_bench targets (not the
# tests and stress harnesses), their output in a log, and every 15 s a line with make's
# progress (bench.sh, pack.sh; call with the INT/TERM traps that run tb_stop_child).
tb_build_benchmarks() {
  local targets
  say "building the benchmarks, Release (build/release; its log: build/release/build.log; the first build takes about 5 minutes on 2 cores)"
  mkdir -p build/release
  tb_run_child build/release/configure.log cmake --preset release ||
    { tail -5 build/release/configure.log >&2; die "configure failed (its log: build/release/configure.log)"; }
  mapfile -t targets < <(tb_bench_targets build/release)
  [ ${#targets[@]} -gt 0 ] || die "the release build has no *_bench target"
  TB_PROGRESS=tb_release_build_progress
  tb_run_child build/release/build.log cmake --build --preset release -j "$(tb_jobs)" --target "${targets[@]}" ||
    { tail -5 build/release/build.log >&2; die "build failed (its log: build/release/build.log)"; }
  TB_PROGRESS=""
  say "built ${#targets[@]} benchmark programs"
}
tb_release_build_progress() { tb_build_progress build/release/build.log; }

# tb_find_bins BIN_DIR: bins, the *_bench binaries in BIN_DIR (sorted; none: an error), after
# one line naming the build's user contenders, if any (they stay in its cache once configured).
tb_find_bins() {
  local user_contenders
  [ -d "$1" ] || die "no benchmark folder $1 (build first, or drop --no-build)"
  user_contenders=$(sed -n 's/^THREADBENCH_CONTENDERS:[A-Z]*=//p' "$1/../CMakeCache.txt" 2>/dev/null || true)
  [ -z "$user_contenders" ] ||
    say "this build includes user contenders from $user_contenders (drop them: cmake --preset release -DTHREADBENCH_CONTENDERS=)"
  mapfile -t bins < <(find "$1" -maxdepth 1 -type f -name '*_bench' -perm -u+x | sort)
  [ ${#bins[@]} -gt 0 ] || die "no *_bench binaries in $1"
}

# tb_build_facts: compiler, tbb_version and commit (-dirty with uncommitted changes): what the
# build is, for every JSON's context and a bundle's pack.conf (tb_clean: preflight.sh).
tb_build_facts() {
  compiler=$( (g++ --version 2>/dev/null || echo unknown) | head -1 | tb_clean)
  tbb_version=$(dpkg-query -W -f='${Version}' libtbb-dev 2>/dev/null | tb_clean || true)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"
}

# peer_options ARGS...: the command line the peers' run.sh share (bench/rust, bench/go), parsed
# once here. Sets out, filter, reps, min_time, context, processes (empty when not given); quick=1 for
# --quick, check=1 for --check, and last_mode (default, quick or check: whichever came last);
# list=1 for --list, accepted only when the caller set peer_lists=1. Calls the caller's usage
# (for -h/--help) and usage_error (one line, exit 2); validating values is the caller's job.
peer_options() {
  out="" filter="" reps="" min_time="" context="" processes="" quick=0 check=0 list=0 last_mode=default
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
      --processes) [ $# -ge 2 ] || usage_error "--processes needs a number"; processes=$2; shift ;;
      --processes=*) processes=${1#--processes=} ;;
      --quick) quick=1 last_mode=quick ;;
      --check) check=1 last_mode=check ;;
      --list) [ "${peer_lists:-0}" = 1 ] || usage_error "unknown option '$1'"; list=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option '$1'" ;;
    esac
    shift
  done
}

# ---- fresh processes (--processes N): each program's rows run in N processes, merged ----
TB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# tb_is_count VALUE: true when VALUE is a positive integer (what --processes and
# --repetitions take).
tb_is_count() { [[ "$1" =~ ^[1-9][0-9]{0,5}$ ]]; }

# tb_plain_python: print a python3 (standard library is enough: merge_processes.py).
tb_plain_python() { find_python sys; }

# tb_merge_parts PYTHON OUT PART...: merge the part files of one program's processes (in
# process order) into OUT with scripts/merge_processes.py: every repetition kept with its
# process_index, the aggregates recomputed over all of them, context processes=N.
tb_merge_parts() {
  local py=$1 out=$2; shift 2
  "$py" "$TB_SCRIPTS/merge_processes.py" "$out" "$@" || die "merging $# process files into $out failed"
}

# tb_peer_processes N OUT RUN...: the peers' run.sh: run the command RUN... --out PART in N
# fresh processes, one after another, and merge the parts into OUT; N = 1 writes OUT at
# once (no python needed). The parts live in a temporary folder removed on exit.
tb_peer_processes() {
  local n=$1 out=$2 p py parts=()
  shift 2
  if [ "$n" -eq 1 ]; then "$@" --out "$out"; return; fi
  py=$(tb_plain_python) || die "--processes $n needs a python3 to merge the processes' JSON files"
  TB_PARTS_DIR=$(mktemp -d)
  trap 'rm -rf "$TB_PARTS_DIR"' EXIT
  for ((p = 0; p < n; p++)); do
    say "process $((p + 1)) of $n"
    "$@" --out "$TB_PARTS_DIR/p$p.json" || return
    parts+=("$TB_PARTS_DIR/p$p.json")
  done
  tb_merge_parts "$py" "$out" "${parts[@]}"
}

# tb_peer_defaults: the peers' run.sh after peer_options: processes and repetitions default
# to scripts/bench.sh's (tb_sample_defaults; 1 x 1 with --quick or --check), and
# the context says processes=N unless the caller (bench.sh, which runs one process a round)
# already did. Returns 1 when --processes is not a positive integer.
tb_peer_defaults() {
  if [ $check -eq 1 ] || [ "$last_mode" = quick ]; then processes=${processes:-1}; reps=${reps:-1}; fi
  processes=${processes:-$tb_default_processes} reps=${reps:-$tb_default_reps}
  tb_is_count "$processes" || return 1
  [[ ",$context" == *",processes="* ]] || context="${context:+$context,}processes=$processes"
}

# tb_stop_child: stop the program now running (tb_run_child), for INT/TERM traps: its whole
# session (a peer's run.sh with its cargo or benchmark, a build's compilers) is stopped.
TB_CHILD=""
tb_stop_child() {
  [ -n "$TB_CHILD" ] || return 0
  kill -TERM -- "-$TB_CHILD" 2>/dev/null || kill -TERM "$TB_CHILD" 2>/dev/null || true
  wait "$TB_CHILD" 2>/dev/null || true
  say "stopped the running program (process $TB_CHILD and its children)"
  TB_CHILD=""
}

# tb_run_child LOG CMD...: runs CMD in a session of its own (setsid: tb_stop_child can stop
# its whole process tree), its output to LOG, and waits for it. In the background and waited
# for, so that an INT/TERM trap of the caller runs at once: bash runs a trap only after a
# foreground command ends. Every TB_PROGRESS_EVERY seconds (default 15) while CMD runs, the
# function named in TB_PROGRESS (if set) is called. Returns CMD's exit status.
tb_run_child() {
  local log=$1 sleeper finished rc
  shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  TB_CHILD=$!
  while :; do
    sleep "${TB_PROGRESS_EVERY:-15}" &
    sleeper=$!
    finished="" rc=0
    wait -n -p finished "$TB_CHILD" "$sleeper" || rc=$?
    if [ "$finished" = "$TB_CHILD" ]; then
      kill "$sleeper" 2>/dev/null || true
      break
    fi
    [ -z "${TB_PROGRESS:-}" ] || "$TB_PROGRESS"
  done
  TB_CHILD=""
  return $rc
}

# tb_bench_process BIN JSON LOG REPS MIN_TIME CONTEXT FILTER: one fresh process of a Google
# Benchmark program (through the caller's pin_cmd array, if any) writing JSON, its console
# output in LOG. Returns 0 when it wrote benchmarks, 1 (JSON removed) when the filter matched
# none; dies when the program fails or a benchmark reports an error.
tb_bench_process() {
  local bin=$1 json=$2 log=$3 reps=$4 min_time=$5 context=$6 filter=$7 errors
  local args=(--benchmark_out="$json" --benchmark_out_format=json
              --benchmark_repetitions="$reps" --benchmark_min_time="$min_time"
              --benchmark_context="$context")
  [ "$reps" -gt 1 ] && args+=(--benchmark_display_aggregates_only=true)
  [ -n "$filter" ] && args+=(--benchmark_filter="$filter")
  tb_run_child "$log" "${pin_cmd[@]}" "$bin" "${args[@]}" || {
    tail -5 "$log" >&2
    die "$(basename "$bin") failed (its log: $(basename "$log"), kept with the partial run)"
  }
  if ! grep -q '"name"' "$json" 2>/dev/null; then rm -f "$json"; return 1; fi
  errors=$(grep -c '"error_occurred": true' "$json" || true)
  [ "${errors:-0}" -eq 0 ] || die "$(basename "$bin"): $errors benchmark(s) reported an error (its log: $(basename "$log"), kept with the partial run)"
}
