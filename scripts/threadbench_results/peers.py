"""The Rust and Go peers as report.md names them: each peer's label with the version of what
it measures ('rust:crossbeam 0.5.6', 'rust:std rustc 1.95.0', 'go:chan go1.19.8'), read from
the peers' own JSON context, and the header's "Peers" note (versions, Go's clock-read cost,
Go's garbage-collected boxed payloads).

Only displayed text changes: benchmark names, contenders, goal keys and goals.txt keep the
bare labels ('rust:crossbeam'), so compare.py and the goal verdicts are unaffected. A peer
whose version is not in the context is shown by its bare label.
"""
from .fmt import fmt_ns, rank
from .kinds import IMPL_ORDER
from .load import context_text

# Rust contender label -> the rust_bench.json context key holding its crate's version; every
# other Rust contender (rust:std, rust:thread, rust:scope) is std, named by the rustc version.
RUST_CRATES = {"rust:crossbeam": "crossbeam_channel_version", "rust:flume": "flume_version",
               "rust:rayon": "rayon_version"}


def _values(run, language, key):
    """The distinct values of a context key in the files of one language ('rust', 'go'), in
    file order ('' values and files of other languages left out)."""
    out = []
    for _, ctx in run.contexts:
        if str(ctx.get("language") or "").lower() == language and key in ctx:
            text = context_text(ctx[key]).strip()
            if text and text not in out:
                out.append(text)
    return out


def rustc(run):
    """'rustc 1.95.0' from rust_bench.json's 'rustc 1.95.0 (59807616e 2026-04-14)' (the commit
    and date dropped); None when the context has no rustc."""
    found = [" ".join(v.split()[:2]) for v in _values(run, "rust", "rustc")]
    return " / ".join(dict.fromkeys(found)) or None


def version(run, label):
    """The version that goes with a peer label, as text ('0.5.6', 'rustc 1.95.0', 'go1.19.8');
    None for C++ contenders and for peers whose version the context lacks."""
    language, colon, name = label.partition(":")
    if not colon:
        return None
    if language == "go":
        return " / ".join(_values(run, "go", "go_version")) or None
    if language != "rust":
        return None
    crate = next((key for prefix, key in RUST_CRATES.items()
                  if label == prefix or label.startswith(prefix + "_")), None)
    if crate:
        return " / ".join(_values(run, "rust", crate)) or None
    return rustc(run)


def labeller(run):
    """label -> the label as report.md shows it: with its version when there is one."""
    def show(label):
        v = version(run, label)
        return f"{label} {v}" if v else label
    return show


def has_peers(run):
    return any(b.is_peer for b in run.benches.values())


def note(run):
    """The header's 'Peers' paragraph (a list of lines, empty when the run has no Rust or Go
    rows): the channel peers with their versions, the rustc that built Rust's rows, Go's
    clock-read cost next to its round trips, and Go's garbage-collected boxed payloads."""
    if not has_peers(run):
        return []
    show = labeller(run)
    languages = {b.language for b in run.benches.values() if b.is_peer}
    channel = sorted({b.contender for b in run.benches.values() if b.is_peer and b.family == "channel"},
                     key=lambda c: rank(c, IMPL_ORDER))
    parts = []
    if channel:
        parts.append("channel peers " + ", ".join(show(c) for c in channel) + ".")
    if "rust" in languages:
        built = rustc(run)
        rayon = " / ".join(_values(run, "rust", "rayon_version"))
        text = f"Rust's rows are built with {built}" if built else "Rust's rows: rustc version not recorded"
        parts.append(text + (f"; rust:rayon_* rows use rayon {rayon}." if rayon else "."))
    if "go" in languages:
        go = " / ".join(_values(run, "go", "go_version"))
        parts.append(f"Go's rows are built with {go}." if go else "Go's rows: Go version not recorded.")
        clock = _clock_read_ns(run)
        if clock is not None:
            # go_clock_read_ns: what one clock read costs in the Go peer, in ns (go_bench
            # measures it at start-up). Each Go ping_pong sample reads the clock, so every Go
            # round-trip latency (p50, p99, p99.9) carries about this much on top of the hand-off.
            parts.append(f"Each Go ping_pong sample reads the clock, which costs Go {fmt_ns(clock)} here "
                         "(go_clock_read_ns): Go's latency rows include about that much per sample.")
        parts.append("Go frees boxed payloads through its garbage collector: Go's payload:boxed rows "
                     "include GC work that C++ and Rust pay at free().")
    return ["**Peers:** " + " ".join(parts)]


def _clock_read_ns(run):
    """go_clock_read_ns from go_bench.json's context as a number of ns (the first file's when
    several differ); None when absent or not a number."""
    for value in _values(run, "go", "go_clock_read_ns"):
        try:
            return float(value)
        except ValueError:
            continue
    return None
