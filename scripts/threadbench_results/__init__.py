"""threadbench_results: read threadbench's Google Benchmark JSON and turn it into numbers,
charts, a report and speed-goal verdicts. One module per job, in the spirit of Google
Benchmark's tools/gbench/; the scripts in scripts/ (plot.py, compare.py, goals.py,
merge_processes.py, icount.sh) are thin command lines on top.

    names     benchmark names 'family/scenario/key:value/...': parse_name, key_value, keys_text
    load      runs and benchmarks (Run.find(family, scenario, **keys))
    fmt       number and name formatting shared by tables and charts
    cli       one-line errors, exit status 2, the interpreter check, number arguments
    machine   what a run's context says about its machine and making: cores, host label, busy
              verdict, processes x repetitions, minimum time, preflight, commit
    interval  95% intervals: a seeded two-level bootstrap (processes, then repetitions) of any
              number made from row medians; PASS / MISS / UNCLEAR against a target
    headlines the ratios the report leads with, as data (Headline rows, each with its interval)
    goals     speed goals: targets attached to headline ratios, PASS / MISS / UNCLEAR on their
              intervals, not measured, not applicable
    noise     the noise check: twin rows (same work) that disagree beyond their intervals
    floor     the harness floor: each channel flow row's share that is its crew's own round
              (channel/crew rows of the same language and producers x consumers)
    ab        two runs compared (compare.py's timings): ratios, intervals, U tests, the gate;
              run() is compare.py's whole timing comparison (scipy)
    processes one program's part files from N fresh processes merged into one JSON: every
              sample with its process_index, aggregates recomputed over all of them;
              write_merged() writes it whole or not at all (merge_processes.py)
    report    report.md (its Summary first: goals, leads and trails) and tables.md of one run;
              goal_verdicts() judges every goal (goals.py)
    charts    the PNG charts of one run (matplotlib)
    hosts     the same scenarios across several runs (machines) side by side
    publish   plot.py's work: one run's plots, report.md, tables.md and goals.txt, or the
              hosts view of several, written into a temporary folder and moved into place
    icount    instruction counts: the JSON icount.sh writes and the gate compare.py runs

Only charts, hosts and publish import matplotlib, and ab.run scipy; everything else is the
standard library.
"""
