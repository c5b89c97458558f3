"""Tables that a script measures and a README shows: the README holds them between two
marker lines, and the script that measured them replaces what lies between, so no one keeps
such a table by hand.

    <!-- begin NAME: written by WRITER; rerun it, do not edit by hand -->
    ...
    <!-- end NAME -->

Command line (scripts/planted_bugs.sh --readme uses it):
    python3 -m threadbench_results.blocks FILE NAME < NEW_CONTENT
replaces the block NAME of FILE with standard input, atomically (a temporary file in the same
folder, then a rename): on any error FILE is left as it was, with one line and exit 2.
    python3 -m threadbench_results.blocks --check FILE NAME
only checks that FILE has one well-formed block NAME (exit 0), else one line and exit 2.
"""
import os
import re
import sys
import tempfile

from threadbench_results.cli import RunError, fail

_BEGIN = re.compile(r"^<!-- begin (?P<name>[\w.-]+): written by (?P<writer>.+?) -->$")
_END = "<!-- end {name} -->"


def find_block(lines, name):
    """(begin, end) line indices of block NAME's marker lines; RunError when the markers are
    missing, repeated or out of order."""
    begins = [i for i, line in enumerate(lines)
              if (m := _BEGIN.match(line.rstrip("\n"))) and m["name"] == name]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == _END.format(name=name)]
    if len(begins) != 1 or len(ends) != 1:
        raise RunError(f"expected one '<!-- begin {name}: written by ... -->' line and one "
                       f"'{_END.format(name=name)}' line, found {len(begins)} and {len(ends)}")
    if ends[0] < begins[0]:
        raise RunError(f"block {name}: its end marker comes before its begin marker")
    return begins[0], ends[0]


def block_text(text, name):
    """The content of block NAME in text (without its markers)."""
    lines = text.splitlines(keepends=True)
    begin, end = find_block(lines, name)
    return "".join(lines[begin + 1:end])


def replace_block(text, name, content):
    """text with block NAME's content replaced by content (markers kept)."""
    if not content.strip():
        raise RunError(f"block {name}: the new content is empty (nothing was replaced)")
    lines = text.splitlines(keepends=True)
    begin, end = find_block(lines, name)
    if not content.endswith("\n"):
        content += "\n"
    return "".join(lines[:begin + 1]) + content + "".join(lines[end:])


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise RunError(f"cannot read {path}: {e.strerror}") from e


def replace_in_file(path, name, content):
    new = replace_block(read_text(path), name, content)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".blocks-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise RunError(f"cannot write {path}: {e.strerror}") from e


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    check = argv[:1] == ["--check"]
    if check:
        argv = argv[1:]
    if len(argv) != 2:
        fail("usage: python3 -m threadbench_results.blocks [--check] FILE NAME < NEW_CONTENT")
    try:
        if check:
            find_block(read_text(argv[0]).splitlines(), argv[1])
        else:
            replace_in_file(argv[0], argv[1], sys.stdin.read())
    except RunError as e:
        fail(f"{argv[0]}: {e}")


if __name__ == "__main__":
    main()
