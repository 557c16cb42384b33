#!/usr/bin/python3
"""The kernel's own error reports in a guest's console log.

    scripts/kernel-reports.py CONSOLE...

prints each report's first line (file: line) and exits 1 if there is any.
The guest test harness calls reports() on every console when a test ends,
so that a test whose guest kernel complained fails.

A report is what the kernel's checkers print: KASAN, KCSAN, KFENCE, UBSAN,
lockdep, kmemleak, DEBUG_OBJECTS, a WARN, a BUG or an oops, and "sleeping
function called from invalid context" or "scheduling while atomic".  Not
reports here: soft lockups, RCU stalls and hung tasks, which under TCG
(the more so nested) measure the emulation's pace, not a fault.
"""

import re
import sys

# printk's prefix: "[   12.345678] ", with an optional "[    T42] " caller id
_PREFIX = re.compile(r'^(?:<\d+>)?(?:\[\s*\d+\.\d+\]\s*)?(?:\[\s*[TC]\d+\]\s*)?')

_REPORT = re.compile(
    r'^(?:'
    r'BUG: (?!soft lockup)'           # KASAN, KCSAN, KFENCE, sleeping in atomic
    r'|WARNING: '                     # WARN_ON, lockdep
    r'|UBSAN: '
    r'|ODEBUG: '                      # DEBUG_OBJECTS
    r'|kernel BUG at '
    r'|Oops: '
    r'|general protection fault'
    r'|unreferenced object 0x'        # kmemleak's file
    r'|kmemleak: \d+ new suspected memory leak'
    r'|INFO: trying to register non-static key'  # lockdep
    r')')

# what the emulation's pace causes (a "BUG:" soft lockup included)
_TIMING = re.compile(r'soft lockup|rcu_.*stall|blocked for more than')


def reports(text):
    """The first line of every kernel report in console @text, in order."""
    found = []
    for raw in text.splitlines():
        line = _PREFIX.sub('', raw.rstrip('\r'))
        if _REPORT.match(line) and not _TIMING.search(line):
            found.append(line)
    return found


def main(paths):
    bad = 0
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as f:
            for line in reports(f.read()):
                print(f'{path}: {line}')
                bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
