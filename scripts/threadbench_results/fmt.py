"""Numbers and names as tables and charts print them."""
from .load import value_order
from .names import keys_text


def is_number(text):
    return value_order(text)[0] == 0


def fmt_ns(ns, digits=3):
    """Nanoseconds in the largest unit that keeps the number at 1 or more: '18.2 µs'."""
    for factor, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if abs(ns) >= factor:
            return f"{ns / factor:.{digits}g} {unit}"
    return f"{ns:.{digits}g} ns"


def fmt_si(value, unit=""):
    """1.23e7 -> '12.3 M' (3 significant digits, SI prefix)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def fmt_bytes(value):
    value = float(value)
    for factor, unit in ((2 ** 20, "MiB"), (2 ** 10, "KiB")):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.3g} B"


def fmt_payload(value):
    return fmt_bytes(value) if is_number(value) else value


def fmt_metric(name, value):
    """'items/s 12.3 M', 'p50_ns 410 ns', 'efficiency 0.93': a metric's median with its name."""
    if name == "items_per_second":
        return f"items/s {fmt_si(value)}"
    if name == "bytes_per_second":
        return f"bytes/s {fmt_si(value, 'B')}"
    if name.endswith("_ns") or name.startswith("ns_"):
        return f"{name} {fmt_ns(value)}"
    return f"{name} {value:.3g}"


def describe(bench, skip=()):
    """'mpmc 4p/4c cap:1024': the scenario and its keys, producers/consumers shortened
    (and left out for spsc, where they are 1 and 1 by definition)."""
    keys = {k: v for k, v in bench.keys.items() if k not in skip}
    parts = [bench.scenario]
    p, c = keys.pop("producers", None), keys.pop("consumers", None)
    if (p or c) and bench.scenario != "spsc":
        parts.append(f"{p or '?'}p/{c or '?'}c")
    if keys:
        parts.append(keys_text(keys))
    return " ".join(parts)


def rank(value, known):
    """Sort key: the order of known first, then anything else alphabetically."""
    return (known.index(value) if value in known else len(known), value)


def md_table(header, rows):
    """A Markdown table as a list of lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def text_table(header, rows):
    """A plain-text table (columns padded, the last one free) as a list of lines."""
    widths = [max(len(str(r[i])) for r in list(rows) + [header]) for i in range(len(header) - 1)]

    def line(r):
        return ("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1])).rstrip()
    return [line(header), "  ".join("-" * w for w in widths) + "  " + "-" * len(header[-1])] + \
        [line(r) for r in rows]
