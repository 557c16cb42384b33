#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ThreadSanitizer's reports of a qtest run, sorted: the device's and the rest.

  tsan-reports.py LOG_PREFIX

reads every LOG_PREFIX.<pid> file that TSAN_OPTIONS=log_path=LOG_PREFIX left
(the QEMUs a qtest run started), prints whole each report on the device's
own state (is_device) and counts the others: QEMU's core and GLib (whose
locks TSan does not see unless GLib is built with it: docs/devel/testing in
QEMU's tree), and guest memory that the board and the guest share by
design.  Exits 1 when the device has a report, 2 when there are no logs at
all (TSan did not run).
"""
import glob
import re
import sys

DEVICE = 'hw/net/selfvirt/'
SEPARATOR = '=================='


def split_reports(text):
    """The reports of one log: the text between TSan's separator lines."""
    reports, current = [], None
    for line in text.splitlines():
        if line.strip() == SEPARATOR:
            if current is not None:
                reports.append('\n'.join(current))
                current = None
            else:
                current = []
        elif current is not None:
            current.append(line)
    return reports


def kind(report):
    """'data race', 'lock-order-inversion ...': what TSan called it."""
    m = re.search(r'WARNING: ThreadSanitizer: ([^(]+?)\s*(\(|$)', report, re.M)
    return m.group(1) if m else 'unknown'


# TSan's interceptors: the access is the caller's
INTERCEPTORS = {'memcpy', 'memmove', 'memset', 'memcmp'}


def access_tops(report):
    """The innermost frame that is not an interceptor, for each access."""
    tops, want = [], False
    for line in report.splitlines():
        if re.match(r'\s+(Previous )?(atomic )?(read|write) of size', line,
                    re.I):
            want = True
            continue
        m = re.match(r'\s+#\d+ (\S+) (\S+)', line)
        if want and m and m.group(1).replace('__interceptor_', '') \
                not in INTERCEPTORS:
            tops.append(m.group(2))
            want = False
    return tops


def is_device(report):
    """
    A report on the device's own state: one of the two accesses is made by
    code in hw/net/selfvirt/, on memory QEMU allocated (TSan names its
    heap block or global).  Guest RAM and the SDRAM BAR are mmap'ed and
    shared with the guest by design (the rings' indexes order them), so a
    data race there is the hardware's, not a bug.  Other kinds (a lock
    order inversion, a use after free) count wherever the device appears.
    """
    if kind(report) != 'data race':
        return DEVICE in report
    return (any(DEVICE in top for top in access_tops(report)) and
            re.search(r'^  Location is (heap block|global)', report, re.M)
            is not None)


def summary(reports):
    """(device reports, {kind: count} of the others)."""
    device, others = [], {}
    for r in reports:
        if is_device(r):
            device.append(r)
        else:
            others[kind(r)] = others.get(kind(r), 0) + 1
    return device, others


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    logs = sorted(glob.glob(argv[1] + '.*'))
    if not logs:
        print(f'tsan-reports: no logs at {argv[1]}.*', file=sys.stderr)
        return 2
    reports = []
    for path in logs:
        with open(path, errors='replace') as f:
            reports += split_reports(f.read())
    device, others = summary(reports)
    for r in device:
        print(SEPARATOR + '\n' + r + '\n' + SEPARATOR)
    rest = ', '.join(f'{n} {k}' for k, n in sorted(others.items())) or 'none'
    print(f'tsan-reports: {len(logs)} logs, {len(device)} reports in '
          f'{DEVICE}; outside it: {rest}')
    return 1 if device else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
