#!/usr/bin/env bash
# scripts/pack.sh: run nothing: write DIR, a bundle that runs the suite on another x86-64
# Linux without toolchain: the *_bench binaries, every shared library they load and the
# dynamic loader, the Rust and Go peers when built, preflight.sh, pack.conf (the defaults
# below and what the build is) and run.sh (scripts/bundle_run.sh; DIR/run.sh --help).
# ./scripts/bench.sh --pack DIR [OPTIONS] runs this with the same options.
#
#   ./scripts/pack.sh DIR               build Release (and the peers, checked), then pack them
#   ./scripts/pack.sh DIR --no-build    pack the existing build/release binaries as they are
#   ./scripts/pack.sh DIR --bin-dir D   pack the *_bench binaries found in D (implies --no-build)
#   ./scripts/pack.sh DIR --no-peers    C++ only: leave out bench/rust and bench/go
# The bundle's run.sh defaults, which its own flags replace (as scripts/bench.sh takes them):
#   --quick, --filter REGEX, --repetitions N, --processes N, --min-time SECONDS,
#   --wait-quiet N, --pin
# Every option that takes a value takes it as --option VALUE or --option=VALUE. DIR must not
# exist or be an empty folder; it is written whole or not at all.
# On the other machine: DIR/run.sh [--quick] [--filter REGEX] [--out DIR]; plot the run back
# here with scripts/plot.py DIR. Exit status: 0 packed, 1 an error (one line says why).
set -euo pipefail
TB_SELF=$(readlink -f "$0")
cd "$(dirname "$0")/.."
. scripts/lib.sh
tb_reset_signals "$@"
. scripts/preflight.sh

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

tb_run_defaults
pack=""
tb_split_options "$@"
set -- ${TB_ARGS[@]+"${TB_ARGS[@]}"}
while [ $# -gt 0 ]; do
  if tb_run_option "$@"; then shift "$TB_TAKEN"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$pack" ] || die "one bundle folder at a time: '$pack' and '$1' (see --help)"; pack=$1 ;;
  esac
  shift
done
[ -n "$pack" ] || die "name the bundle's folder: pack.sh DIR (see --help)"
tb_check_run_options
[ ! -e "$pack" ] || { [ -d "$pack" ] && [ -z "$(ls -A "$pack")" ]; } ||
  die "$pack exists and is not an empty folder: choose another --pack DIR (nothing was overwritten)"
command -v ldd >/dev/null 2>&1 || die "--pack needs ldd (Debian: libc-bin)"

# Ctrl-C, INT or TERM stop the build now running (its whole process tree: lib.sh tb_run_child).
trap 'tb_stop_child; exit 130' INT
trap 'tb_stop_child; exit 143' TERM

[ $build -eq 1 ] && ensure_packages "${TB_BUILD_PACKAGES[@]}"
[ $build -eq 1 ] && tb_build_benchmarks
tb_find_bins "$bin_dir"
tb_build_facts

# sh_quote VALUE: VALUE as one single-quoted sh word.
sh_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
# peer_binary LANG: the peer's benchmark program, where bench/LANG/run.sh built it.
peer_binary() {
  local f
  case "$1" in
    go) f=build/go/go_bench ;;
    rust) f=build/rust/target/release/rust_bench ;;
  esac
  [ -f "$f" ] && [ -x "$f" ] && echo "$f"
}
pack_bundle() {
  local dest=$1 part f lib loader lang n rc
  part="$(dirname "$dest")/.$(basename "$dest").partial-$$"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$part"
  mkdir -p "$part/bin" "$part/lib" "$part/peers"
  trap 'rm -rf "$part"' EXIT
  say "packing ${#bins[@]} binaries from $bin_dir into $dest"
  cp "${bins[@]}" "$part/bin/"
  if [ $peers -eq 1 ]; then
    for lang in rust go; do
      # Unless --no-build, build the peer the way it is tested: its --check subset.
      if [ $build -eq 1 ] && [ -f "bench/$lang/run.sh" ]; then
        say "  peer $lang: building and checking it (bench/$lang/run.sh --check)"
        rc=0
        bash "bench/$lang/run.sh" --check --out "$part/check.json" >"$part/check.log" 2>&1 || rc=$?
        case $rc in
          0) ;;
          3) say "  peer $lang: its toolchain cannot be had ($(tail -1 "$part/check.log"))" ;;
          *) tail -5 "$part/check.log" >&2; die "bench/$lang/run.sh --check failed with exit status $rc" ;;
        esac
        rm -f "$part/check.json" "$part/check.log"
      fi
      if f=$(peer_binary $lang); then
        cp "$f" "$part/peers/${lang}_bench"
        # A peer that loads shared libraries runs through the packed loader, like the C++.
        if [[ "$(ldd "$f" 2>&1)" == *"=>"* ]]; then
          : >"$part/peers/${lang}_bench.dynamic"
          say "  peer $lang: $f (dynamic: runs through the packed loader)"
        else
          say "  peer $lang: $f (static)"
        fi
      else
        say "  peer $lang: not built here: left out of the bundle (drop --no-build, or run bench/$lang/run.sh once)"
      fi
    done
  fi
  # Every shared library the binaries load (ldd resolves the whole tree), and the loader.
  loader=""
  for f in "$part"/bin/* "$part"/peers/*_bench; do
    [ -f "$f" ] || continue
    while read -r lib; do
      case "$lib" in
        */ld-linux*) loader=$lib ;;
        /*) cp -L "$lib" "$part/lib/" ;;
      esac
    done < <(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
  done
  [ -n "$loader" ] || die "ldd named no dynamic loader for ${bins[0]}"
  cp -L "$loader" "$part/lib/ld-linux-x86-64.so.2"
  cp scripts/preflight.sh "$part/preflight.sh"
  cp scripts/bundle_run.sh "$part/run.sh"
  chmod +x "$part/run.sh"
  {
    echo "# Written by scripts/pack.sh: the run's defaults chosen at pack time (run.sh's"
    echo "# flags replace them) and what the packed binaries are, for the JSON context."
    echo "PACK_QUICK=$quick"
    echo "PACK_FILTER=$(sh_quote "$filter")"
    echo "PACK_REPS=$(sh_quote "$reps")"
    echo "PACK_PROCESSES=$(sh_quote "$processes")"
    echo "PACK_MIN_TIME=$(sh_quote "$min_time")"
    echo "# the defaults of scripts/lib.sh tb_sample_defaults, for run.sh without --quick"
    echo "PACK_DEFAULT_PROCESSES=$tb_default_processes"
    echo "PACK_DEFAULT_REPS=$tb_default_reps"
    echo "PACK_DEFAULT_MIN_TIME=$tb_default_min_time"
    echo "PACK_WAIT_QUIET=$wait_quiet"
    echo "PACK_PIN=$pin"
    echo "BUILD_COMMIT=$(sh_quote "$commit")"
    echo "BUILD_COMPILER=$(sh_quote "$compiler")"
    echo "BUILD_TBB=$(sh_quote "${tbb_version:-unknown}")"
    echo "BUILD_DATE=$(sh_quote "$(date -u +%Y-%m-%d)")"
  } >"$part/pack.conf"
  [ -d "$dest" ] && rmdir "$dest"
  mv "$part" "$dest"
  trap - EXIT
  n=$(find "$dest/lib" -type f ! -name 'ld-linux*' | wc -l)
  say "packed $dest: ${#bins[@]} binaries, $(find "$dest/peers" -name '*_bench' | wc -l) peers, $n shared libraries + the loader, $(du -sh "$dest" | cut -f1)"
  say "on the other machine: $dest/run.sh [--quick] [--filter REGEX] [--out DIR] (see --help); plot back here with scripts/plot.py DIR"
}
pack_bundle "$pack"
