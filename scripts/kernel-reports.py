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

One stated exception: a KCSAN report "race at unknown origin" in
virtio_ring's virtqueue_* functions alone.  The other party is the virtio
device (the harness's guest-agent port), which writes the ring into guest
memory from a QEMU thread that KCSAN cannot see; the report names no
kernel code racing with the read.  The same report in any other code, or
with a second kernel access, still counts.
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


# KCSAN on virtio_ring's read of what the device wrote (see above)
_DEVICE_WRITE = re.compile(r'BUG: KCSAN: data-race in virtqueue_\w+\+\S+$')
_UNKNOWN_ORIGIN = re.compile(r'race at unknown origin, with read ')


def _device_write(lines, i):
    """Is lines[i] KCSAN's report of a virtio device's write?"""
    return bool(_DEVICE_WRITE.match(lines[i]) and
                any(_UNKNOWN_ORIGIN.match(line) for line in lines[i + 1:i + 4]))


def reports(text):
    """The first line of every kernel report in console @text, in order."""
    lines = [_PREFIX.sub('', raw.rstrip('\r')) for raw in text.splitlines()]
    return [line for i, line in enumerate(lines)
            if _REPORT.match(line) and not _TIMING.search(line) and
            not _device_write(lines, i)]


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
