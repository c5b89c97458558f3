#!/bin/sh
# scripts/preflight.sh: what the machine is, and whether it is quiet enough to time on.
#
#   scripts/preflight.sh                    print the check and its verdict (exit 0 quiet, 1 busy)
#   scripts/preflight.sh --wait-quiet N     re-check every few seconds for up to N s first
#
# Sourced by scripts/bench.sh and by the run.sh of a packed bundle (bench.sh --pack), so it
# is plain POSIX sh (dash, busybox ash, bash) and reads only /proc and /sys: no toolchain.
# The caller defines say() (one progress line). Nothing here writes a file.
#
# The quiet check, in the spirit of pyperf's `system show`: before timing, read
#   - the load average (1, 5, 15 min), busy when the 1-min value is >= half the cores;
#   - every process's CPU time over a short sample (/proc/*/stat, twice), excluding our own
#     process group: a process that used >= 10% of one core is named;
#   - the whole machine's non-idle time over the same sample (/proc/stat), which also
#     catches processes too short-lived to be seen twice: busy at >= 0.10 cores;
#   - the hypervisor's steal time (a VM's noisy neighbours), printed and recorded only;
#   - the CPU frequency governor and turbo, which change timings but not the verdict.

# tb_clean: one line fit for --benchmark_context=k=v,k=v (no commas, no newlines).
tb_clean() { tr -d ',\n' | sed 's/  */ /g; s/^ //; s/ $//'; }

tb_cores() {
  nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo
}

tb_hostname() {
  { hostname -s 2>/dev/null || cut -d. -f1 /proc/sys/kernel/hostname 2>/dev/null || echo host; } | tb_clean
}

tb_cpu_model() {
  m=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null | tb_clean)
  echo "${m:-$(uname -m)}"
}

tb_governor() { cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo unreadable; }

tb_turbo() {
  if [ -r /sys/devices/system/cpu/intel_pstate/no_turbo ]; then
    [ "$(cat /sys/devices/system/cpu/intel_pstate/no_turbo)" = 0 ] && echo on || echo off
  elif [ -r /sys/devices/system/cpu/cpufreq/boost ]; then
    [ "$(cat /sys/devices/system/cpu/cpufreq/boost)" = 1 ] && echo on || echo off
  else
    echo unreadable
  fi
}

# tb_machine_context: the machine's part of the JSON context, as k=v,k=v.
tb_machine_context() {
  echo "machine=$(tb_hostname),cpu_model=$(tb_cpu_model),cores=$(tb_cores),kernel=$(uname -r | tb_clean),governor=$(tb_governor),turbo=$(tb_turbo)"
}

# tb_load_avg: the 1, 5 and 15 minute load averages, space-separated ("0.52 0.31 0.20").
tb_load_avg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "unreadable"; }

# tb_sample SECONDS: CPU use by everything but us over SECONDS. Sets
#   TB_OTHERS_CPU  non-idle time of the whole machine, in cores (0.25 = a quarter of one core)
#   TB_STEAL_PCT   % of the machine's time the hypervisor gave to other guests
#   TB_BUSY_PROCS  "name:pct% name:pct%" for processes at >= 10% of one core, or "none"
# Our own process group is left out by name; the machine-wide figure excludes our own
# reading of /proc because the /proc/stat reads sit right around the sleep.
tb_sample() {
  tb_me=$(sed 's/.*) //' "/proc/$$/stat" 2>/dev/null | cut -d' ' -f3)
  tb_procs_a=$(cat /proc/[0-9]*/stat 2>/dev/null || true)
  tb_stat_a=$(head -1 /proc/stat 2>/dev/null || echo "cpu 0 0 0 0 0 0 0 0")
  sleep "$1"
  tb_stat_b=$(head -1 /proc/stat 2>/dev/null || echo "cpu 0 0 0 0 0 0 0 0")
  tb_procs_b=$(cat /proc/[0-9]*/stat 2>/dev/null || true)
  tb_ncpu=$(grep -c '^cpu[0-9]' /proc/stat 2>/dev/null || echo 1)
  # /proc/stat "cpu" line: user nice system idle iowait irq softirq steal (USER_HZ ticks).
  set -- $(printf '%s\n%s\n' "$tb_stat_a" "$tb_stat_b" | awk -v n="$tb_ncpu" '
    { busy[NR] = $2 + $3 + $4 + $7 + $8; steal[NR] = $9; total[NR] = 0
      for (i = 2; i <= 9; i++) total[NR] += $i }
    END { dt = total[2] - total[1]; if (dt <= 0) dt = 1
          printf "%.2f %.1f %.6f\n", (busy[2] - busy[1]) / dt * n, (steal[2] - steal[1]) * 100 / dt, dt / n }')
  TB_OTHERS_CPU=$1 TB_STEAL_PCT=$2 tb_ticks=$3
  # /proc/PID/stat: pid (comm) state ppid pgrp ... utime(14) stime(15); comm may hold spaces
  # and parentheses, so the fields are counted from the last ')'.
  TB_BUSY_PROCS=$( { printf '%s\n' "$tb_procs_a" | sed 's/^/A /'; printf '%s\n' "$tb_procs_b" | sed 's/^/B /'; } |
    awk -v me="$tb_me" -v ticks="$tb_ticks" '
      match($0, /\(.*\)/) {
        comm = substr($0, RSTART + 1, RLENGTH - 2); gsub(/[ :,]/, "_", comm)
        split(substr($0, RSTART + RLENGTH + 1), f, " ")
        if (f[3] == me) next
        key = $2 " " comm; t = f[12] + f[13]
        if ($1 == "A") a[key] = t; else if (key in a) { pct = (t - a[key]) * 100 / ticks; if (pct >= 10) printf "%s:%d%%\n", comm, pct + 0.5 }
      }' | sort -t: -k2 -rn | awk 'NR <= 8' | tr '\n' ' ' | sed 's/ $//')
  [ -n "$TB_BUSY_PROCS" ] || TB_BUSY_PROCS=none
}

# tb_preflight [LOAD_AVG]: the quiet check. LOAD_AVG ("1m 5m 15m") is the load read when the
# caller started (before it built anything, so it measures others); default: read it now.
# Sets TB_PREFLIGHT (quiet|busy, or unknown without /proc), TB_LOAD_AVG and TB_PREFLIGHT_WHY, plus tb_sample's
# variables, and prints what it found.
tb_preflight() {
  TB_LOAD_AVG=${1:-$(tb_load_avg)}
  tb_sample 2
  tb_n=$(tb_cores)
  TB_PREFLIGHT_WHY=$(echo "$TB_LOAD_AVG" | awk -v n="$tb_n" -v o="$TB_OTHERS_CPU" -v p="$TB_BUSY_PROCS" '
    { w = "" }
    $1 + 0 >= n / 2 { w = w "; 1-min load average " $1 " >= half the " n " cores" }
    o + 0 >= 0.10 { w = w "; other work used " o " cores during the sample" }
    p != "none" { w = w "; busy processes: " p }
    END { sub(/^; /, "", w); print w }')
  [ -z "$TB_PREFLIGHT_WHY" ] && TB_PREFLIGHT=quiet || TB_PREFLIGHT=busy
  if [ "$TB_PREFLIGHT" = quiet ] && ! [ -r /proc/stat ]; then
    TB_PREFLIGHT=unknown TB_PREFLIGHT_WHY="no /proc to read: the load cannot be measured"
  fi
  say "preflight: load average $TB_LOAD_AVG on $tb_n cores; others used $TB_OTHERS_CPU cores over 2 s (steal $TB_STEAL_PCT%); busy processes: $TB_BUSY_PROCS; governor $(tb_governor), turbo $(tb_turbo)"
}

# tb_wait_quiet SECONDS [LOAD_AVG]: tb_preflight, then, while busy and SECONDS have not
# passed, wait 5 s and check again (with the load average of that moment). Warns when the
# machine is still busy: the run goes on, and its context says so.
tb_wait_quiet() {
  tb_limit=$1 tb_waited=0
  tb_preflight "${2:-}"
  while [ "$TB_PREFLIGHT" = busy ] && [ "$tb_waited" -lt "$tb_limit" ]; do
    say "preflight: busy ($TB_PREFLIGHT_WHY); waiting for it to settle ($tb_waited/$tb_limit s)"
    sleep 5
    tb_waited=$((tb_waited + 7))   # the 5 s pause plus the 2 s sample
    tb_preflight
  done
  if [ "$TB_PREFLIGHT" = unknown ]; then
    say "WARNING: $TB_PREFLIGHT_WHY; the run's context records preflight=unknown"
  elif [ "$TB_PREFLIGHT" = busy ]; then
    if [ "$tb_limit" -gt 0 ]; then tb_hint="still, after waiting $tb_waited s"
    else tb_hint="--wait-quiet N waits up to N s for it to settle"; fi
    say "WARNING: the machine is not quiet ($TB_PREFLIGHT_WHY): timings will be noisy and the run's context records preflight=busy ($tb_hint)"
  else
    say "preflight: quiet"
  fi
}

# tb_preflight_context: the verdict as ,k=v pairs to append to the JSON context.
tb_preflight_context() {
  echo ",preflight=$TB_PREFLIGHT,load_avg=$TB_LOAD_AVG,busy_procs=$TB_BUSY_PROCS,others_cpu=$TB_OTHERS_CPU,steal_pct=$TB_STEAL_PCT"
}

# tb_pin_cpus: the CPUs --pin runs on: of the CPUs this process may use, one logical CPU per
# physical core (an SMT sibling of a listed CPU is left out, so two benchmark threads never
# share a core), as a taskset list "0,1,2". Without topology in /sys: every allowed CPU.
tb_pin_cpus() {
  tb_allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null || true)
  [ -n "$tb_allowed" ] || tb_allowed="0-$(($(tb_cores) - 1))"
  for tb_c in $(echo "$tb_allowed" | tr ',' '\n' | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }'); do
    tb_sib=/sys/devices/system/cpu/cpu$tb_c/topology/thread_siblings_list
    tb_first=$( { cat "$tb_sib" 2>/dev/null || echo "$tb_c"; } | tr ',' '\n' |
      awk -F- -v allowed=",$(echo "$tb_allowed" | tr ',' '\n' | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) printf "%d,", i }')" '
        { for (i = $1; i <= ($2 == "" ? $1 : $2); i++) if (index(allowed, "," i ",") && (m == "" || i < m)) m = i }
        END { print m }')
    [ "$tb_first" = "$tb_c" ] && printf '%s\n' "$tb_c"
  done | tr '\n' ',' | sed 's/,$//'
}

# Run on its own (not sourced: then $0 is the sourcing script): the check, its verdict in
# words and as the exit status. Unknown (no /proc) counts as not quiet.
case "${0##*/}" in
  preflight.sh)
    say() { printf '[preflight.sh] %s\n' "$*"; }
    tb_wait=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --wait-quiet) [ $# -ge 2 ] || { say "error: --wait-quiet needs a number of seconds" >&2; exit 2; }
                      tb_wait=$2; shift ;;
        --wait-quiet=*) tb_wait=${1#--wait-quiet=} ;;
        -h|--help) sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
      esac
      shift
    done
    case "$tb_wait" in ''|*[!0-9]*) say "error: --wait-quiet must be a whole number of seconds, got '$tb_wait'" >&2; exit 2 ;; esac
    say "machine: $(tb_machine_context | tr ',' ' ')"
    tb_wait_quiet "$tb_wait"
    [ "$TB_PREFLIGHT" = quiet ]
    ;;
esac
