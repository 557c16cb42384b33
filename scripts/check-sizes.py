#!/usr/bin/python3
"""The size limits of the device and the driver (make lint).

    scripts/check-sizes.py DIR...

Prints every .c file over MAX_FILE_LINES lines and every function whose
body (the lines between its opening and closing brace, both in column 0,
as in kernel and QEMU style) is over MAX_FUNCTION_LINES; exits 1 if any.
Generated files (*.mod.c) are skipped.
"""
import pathlib
import re
import sys

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80

# the line that names a function: its type and name, then "(" (the
# parameters may continue on the next lines)
SIGNATURE = re.compile(r'^[A-Za-z_][\w \t*]*?\b(\w+)\(')


def functions(lines):
    """(name, first line number, body lines) of each function."""
    name, start, first = None, 0, 0
    for i, line in enumerate(lines, 1):
        m = SIGNATURE.match(line)
        if m and not line.rstrip().endswith(';'):
            name, first = m.group(1), i
        elif line == '{' and name:
            start = i
        elif line == '}' and start:
            yield name, first, i - start - 1
            name, start = None, 0


def check(path):
    lines = path.read_text().split('\n')
    found = []
    if len(lines) - 1 > MAX_FILE_LINES:
        found.append(f'{path}: {len(lines) - 1} lines, more than '
                     f'{MAX_FILE_LINES}')
    for name, line, body in functions(lines):
        if body > MAX_FUNCTION_LINES:
            found.append(f'{path}:{line}: {name}() has {body} lines, more '
                         f'than {MAX_FUNCTION_LINES}')
    return found


def main(dirs):
    found = []
    for d in dirs:
        for path in sorted(pathlib.Path(d).glob('*.c')):
            if not path.name.endswith('.mod.c'):
                found += check(path)
    print('\n'.join(found), end='\n' if found else '')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
