"""Benchmark names: 'family/scenario/key:value/...', read and written in this one place.

The C++ benches build them with bench/kit.hpp's Name, the Rust and Go peers write the same
shape. parse_name() reads one; key_value() and keys_text() write the key:value parts as
titles, goals and charts print them ('cap:1024', 'grain:1000 threads:2').
"""

# Name parts Google Benchmark appends that say how a benchmark ran, not what ran.
RUNNER_FLAGS = {"real_time", "manual_time", "process_time"}
RUNNER_KEYS = {"min_time", "min_warmup_time", "iterations", "repeats"}


def parse_name(name):
    """'channel/spsc/impl:x/cap:0/real_time' -> ('channel', 'spsc', {'impl': 'x', 'cap': '0'}).

    Bare parts after the scenario (an Arg without ArgNames) stay in the scenario; runner
    settings Google Benchmark appends are dropped, except threads:N which is kept as a key.
    """
    family, _, rest = name.partition("/")
    scenario, keys = [], {}
    for part in rest.split("/") if rest else []:
        key, colon, value = part.partition(":")
        if colon:
            if key not in RUNNER_KEYS:
                keys[key] = value
        elif part not in RUNNER_FLAGS:
            scenario.append(part)
    return family, "/".join(scenario), keys


def key_value(key, value):
    """('cap', 1024) -> 'cap:1024': one key of a name, as names and titles write it."""
    return f"{key}:{value}"


def keys_text(keys, sep=" "):
    """{'grain': '1000', 'threads': '2'} -> 'grain:1000 threads:2' (in the dict's order)."""
    return sep.join(key_value(k, v) for k, v in keys.items())
