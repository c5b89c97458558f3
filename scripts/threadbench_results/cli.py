"""Command-line plumbing shared by the scripts: one-line errors with exit status 2."""
import argparse
import importlib
import math
import sys
from pathlib import Path

PROG = Path(sys.argv[0]).name


class RunError(Exception):
    """Input that cannot be used: the scripts print it as one line and exit 2."""


def fail(message):
    """Print one error line and exit 2: the exit status of every input or usage error."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(2)


def warn(message):
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def require(*modules):
    """Import modules or exit 2 with one line saying how to get an interpreter that has them."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            fail(f"{sys.executable} cannot import {name}: install python3-matplotlib and "
                 "python3-scipy (Debian) and run with /usr/bin/python3")


class ArgParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message):
        fail(f"{message} (see --help)")


def number_in(low, high, what):
    """argparse type: a float strictly between low and high (else a usage error naming what)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low < value < high:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        return value
    return parse
