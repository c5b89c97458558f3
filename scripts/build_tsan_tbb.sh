#!/usr/bin/env bash
# scripts/build_tsan_tbb.sh: build oneTBB with ThreadSanitizer instrumentation, once.
#
# Why: Debian's libtbb is not instrumented, so TSan cannot see the synchronisation inside
# it and reports false races on plain tbb::task_group / concurrent_bounded_queue code.
# This script builds the same oneTBB from Debian's own source package with
# -DTBB_SANITIZE=thread and installs it into build/tbb-tsan/install, where the tsan preset
# looks for it (TBB_DIR). cmake/TsanTbb.cmake refuses to configure a TSan build against
# any other TBB.
#
# The source comes through apt-get source with a PRIVATE apt configuration under
# build/tbb-tsan/apt: its deb-src entries are derived from this machine's own apt sources
# (the Types: deb stanzas of /etc/apt/sources.list.d/*.sources and the deb lines of
# /etc/apt/sources.list), its package lists and cache live there too, and the machine's
# apt configuration is not touched. No repository host is written anywhere in the repo.
#
# Usage: scripts/build_tsan_tbb.sh [--force]   (--force rebuilds even when the stamp exists)
# Env:   TB_TBB_VERSION  Debian source version to fetch (default: the installed libtbb-dev's;
#                        set it empty to take the newest the deb-src entries offer)
#        TB_APT_ETC      where the machine's apt sources are read from (default /etc/apt)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$arg' (usage: $0 [--force])" ;;
  esac
done

repo=$PWD
top=$repo/build/tbb-tsan
prefix=$top/install
stamp=$top/stamp
aptdir=$top/apt
srcdir=$top/src
objdir=$top/obj
pkg=onetbb
cxx=${CXX:-g++}
apt_etc=${TB_APT_ETC:-/etc/apt}

# The toolchain first (a no-op when installed): the stamp records its versions.
ensure_packages "${TB_BUILD_PACKAGES[@]}" dpkg-dev

# What the stamp records: the build is redone when any of this changes.
want_version=${TB_TBB_VERSION-$(dpkg-query -W -f='${source:Version}' libtbb-dev 2>/dev/null || true)}
compiler_id=$("$cxx" --version 2>/dev/null | head -n1 || true)
stamp_text="$pkg ${want_version:-newest} TBB_SANITIZE=thread compiler=$compiler_id"

if [ "$force" -eq 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] \
   && [ -f "$prefix/lib/cmake/TBB/TBBConfig.cmake" ]; then
  say "TSan-instrumented oneTBB already built ($stamp_text) in ${prefix#"$repo"/}; --force rebuilds it"
  exit 0
fi

# ---- 1. a private apt configuration with deb-src entries derived from the machine's ----
say "deriving deb-src entries from this machine's apt sources ($apt_etc) into ${aptdir#"$repo"/}"
rm -rf "$aptdir"
mkdir -p "$aptdir/sources.list.d" "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
: > "$aptdir/sources.list"

# deb822 files: keep every 'Types: deb' stanza, with its Types turned into deb-src (URIs,
# Suites, Components, Signed-By, Enabled stay as the machine has them). Stanzas that are
# deb-src already are kept as they are.
shopt -s nullglob
for f in "$apt_etc"/sources.list.d/*.sources; do
  awk '
    function flush() { if (n && keep) { for (i = 1; i <= n; i++) print lines[i]; print "" } n = 0; keep = 0 }
    /^[ \t]*$/ { flush(); next }
    /^#/ { next }
    /^Types:/ {
      keep = ($0 ~ /[ \t]deb([ \t]|$)/ || $0 ~ /[ \t]deb-src([ \t]|$)/)
      lines[++n] = "Types: deb-src"; next
    }
    { lines[++n] = $0 }
    END { flush() }
  ' "$f" > "$aptdir/sources.list.d/$(basename "$f")"
done
# One-line format: "deb [opts] uri suite comps..." -> "deb-src [opts] uri suite comps...".
for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -n 's/^[ \t]*deb\([ \t]\)/deb-src\1/p' "$f" >> "$aptdir/sources.list"
done
shopt -u nullglob

if ! grep -qs '^Types: deb-src' "$aptdir"/sources.list.d/*.sources 2>/dev/null \
   && ! grep -qs '^deb-src' "$aptdir/sources.list"; then
  die "no deb-src entry could be derived: $apt_etc/sources.list{,.d/*.sources,.d/*.list} have no 'deb' source"
fi

cat > "$aptdir/apt.conf" <<EOF
// Private apt configuration of scripts/build_tsan_tbb.sh: only source lists, all state here.
Dir::Etc::SourceList "$aptdir/sources.list";
Dir::Etc::SourceParts "$aptdir/sources.list.d";
Dir::State::Lists "$aptdir/lists";
Dir::Cache "$aptdir/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
// Only the Sources indices are needed; the machine's update hooks are not ours to run.
Acquire::IndexTargets::deb::Packages::DefaultEnabled "false";
Acquire::IndexTargets::deb::Translations::DefaultEnabled "false";
Acquire::Languages "none";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
export APT_CONFIG=$aptdir/apt.conf

say "apt-get update (private source lists only)"
apt_log=$aptdir/update.log
if ! apt-get update > "$apt_log" 2>&1; then
  die "apt-get update with the derived deb-src entries failed (see ${apt_log#"$repo"/})"
fi

# ---- 2. fetch and unpack Debian's oneTBB source ----
spec=$pkg${want_version:+=$want_version}
say "apt-get source $spec"
rm -rf "$srcdir"
mkdir -p "$srcdir"
chmod 755 "$top" "$srcdir"
src_log=$aptdir/source.log
if ! (cd "$srcdir" && apt-get source -q "$spec") > "$src_log" 2>&1; then
  die "source package $spec is not available from the derived deb-src entries (see ${src_log#"$repo"/}; set TB_TBB_VERSION= to take the newest)"
fi
tree=$(find "$srcdir" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1)
[ -n "$tree" ] && [ -f "$tree/CMakeLists.txt" ] || die "apt-get source $spec unpacked no oneTBB tree into ${srcdir#"$repo"/}"
say "unpacked $(basename "$tree") (Debian patches applied by dpkg-source)"

# ---- 3. configure, build, install with TSan ----
# TBB_STRICT=OFF: GCC warns that atomic_thread_fence is not supported with TSan, and
# TBB_STRICT turns warnings into errors. Tests and tbbmalloc are not needed (the stress
# binaries use the system allocator, which TSan intercepts).
rm -rf "$objdir" "$prefix"
say "configuring oneTBB with TBB_SANITIZE=thread ($compiler_id)"
cmake -S "$tree" -B "$objdir" -G "Unix Makefiles" \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DTBB_SANITIZE=thread \
  -DTBB_STRICT=OFF \
  -DTBB_TEST=OFF \
  -DTBB_EXAMPLES=OFF \
  -DTBBMALLOC_BUILD=OFF \
  -DTBBMALLOC_PROXY_BUILD=OFF \
  -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON \
  > "$top/configure.log" 2>&1 || die "oneTBB configure failed (see build/tbb-tsan/configure.log)"
say "building oneTBB (-j$(tb_jobs))"
cmake --build "$objdir" -j"$(tb_jobs)" > "$top/build.log" 2>&1 \
  || die "oneTBB build failed (see build/tbb-tsan/build.log)"
cmake --install "$objdir" > "$top/install.log" 2>&1 \
  || die "oneTBB install failed (see build/tbb-tsan/install.log)"

lib=$(find "$prefix/lib" -maxdepth 1 -name 'libtbb.so.*' -type f | head -n1)
[ -n "$lib" ] || die "no libtbb.so was installed into ${prefix#"$repo"/}/lib"
grep -q __tsan_func_entry "$lib" || die "$lib is not TSan-instrumented (no __tsan_func_entry)"
printf '%s\n' "$stamp_text" > "$stamp"
say "installed TSan-instrumented $(basename "$lib") into ${prefix#"$repo"/} (stamp: ${stamp#"$repo"/})"
