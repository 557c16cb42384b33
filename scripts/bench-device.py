#!/usr/bin/python3
"""The board without a guest (tests/qtest/selfvirt-bench.c), its figures
saved with the date, the commit and the host's steal time.

    scripts/bench-device.py QEMU_BUILD [--save FILE]

Runs the benchmark through meson (``meson test --benchmark --suite
selfvirt``), which prints every figure; --save writes them as JSON for
scripts/bench-table.py (the table in docs/benchmarks.md).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'guest'))

from harness import host_cpu_times, run_started, save_results, \
    steal_percent  # noqa: E402


def run_bench(build, path):
    """The benchmark's figures, through meson, the JSON going to @path."""
    meson = os.path.join(build, 'pyvenv', 'bin', 'meson')
    env = dict(os.environ, SELFVIRT_BENCH_SAVE=path)
    done = subprocess.run([meson, 'test', '-C', build, '--no-rebuild',
                           '--benchmark', '--suite', 'selfvirt', '--verbose'],
                          env=env, check=False)
    if done.returncode:
        sys.exit(f'bench-device: the benchmark failed ({done.returncode})')
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('build', help='the QEMU build directory')
    ap.add_argument('--save', metavar='FILE',
                    help='the figures as JSON (scripts/bench-table.py)')
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.build, 'pyvenv', 'bin', 'meson')):
        ap.error(f'{args.build}: not a QEMU build directory (no pyvenv/bin/'
                 'meson)')

    started, host0 = run_started(), host_cpu_times()
    with tempfile.TemporaryDirectory(prefix='selfvirt-bench-') as tmp:
        figures = run_bench(args.build, os.path.join(tmp, 'figures.json'))
    steal = steal_percent(host0, host_cpu_times())
    print(f'bench-device: host steal {steal:.1f}%')
    if args.save:
        save_results(args.save, started, steal, bench='device', **figures)
    return 0


if __name__ == '__main__':
    sys.exit(main())
