#!/usr/bin/python3
"""The tables of the docs, made from stored benchmark results.

    scripts/bench-table.py RESULTS.json          print the tables
    scripts/bench-table.py DIR TABLE             print one of the kit's
    scripts/bench-table.py --update DOC          rewrite DOC's tables
    scripts/bench-table.py --check DOC           exit 1 if one is stale

RESULTS.json is what ``tests/guest/bench.py --save`` writes (or
bench_kvm.py's, bench_nested.py's, latency_trace.py's,
scripts/bench-device.py's): every run's figures.  A table in DOC sits
between ``<!-- bench-table PATH -->`` and ``<!-- end bench-table -->``,
PATH relative to DOC: the medians per model with their ratios to
virtio-net and e1000, then the host cores by QEMU thread
(bench_nested.py's: per count of L2 VMs, direct against bridged;
latency_trace.py's: per hop, a column per board setting); above them the
date, the commit, the host's steal and the command.

A PATH that is a directory holds the experiment kit's CSVs and run.json
(tests/experiments/run.py --out); ``<!-- bench-table DIR VIEW -->`` puts
one of report.md's tables there (analysis.VIEWS: claims, fig2, fig3, ...),
the claims with the run's date, commit and command.
"""

import functools
import json
import os
import re
import statistics
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'experiments'))

import analysis     # noqa: E402

ROLES = ('tx vCPU', 'rx vCPU', 'engines', 'rest', 'waiting')
BLOCK = re.compile(r'(<!-- bench-table (\S+)(?: +(\S+))? *-->\n).*?'
                   r'(<!-- end bench-table -->)', re.S)
MARK = re.compile(r'^<!-- bench-table ', re.M)

def _median(values):
    return statistics.median(values)


def _head(results, *details):
    """When, on what code, under what steal and by which command @results
    were measured, with @details between."""
    parts = [f"{results['started']} to {results['ended']}, code of "
             f"{results['commit']}"]
    if 'steal_percent' in results:
        parts.append(f"{results['steal_percent']}% steal")
    return ', '.join([*parts, *details, f"`{results['command']}`"])


def _header(results, setting):
    return [_head(results, f"{results['runs']} runs of {results['seconds']} "
                  's interleaved', 'medians', setting) + ':', '']


def _median_of(values):
    """The median of the values that are not None, or None."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def nested_table(results):
    """Markdown for bench_nested.py's results: per count of L2 VMs, the
    direct path against the bridged one."""
    med = {(p['vms'], p['shape']): {k: _median_of(p[k]) for k in p
                                    if isinstance(p[k], list)}
           for p in results['points']}
    out = _header(results, results['setting'])
    out += ['| L2 VMs | direct Mbit/s | bridged Mbit/s | ratio | '
            'direct RTT ms | bridged RTT ms | ratio | L1 traps per L2 '
            'packet | per wire frame |', '|---|---|---|---|---|---|---|---|---|']
    for n in sorted({vms for vms, _ in med}):
        d, b = med[(n, 'direct')], med[(n, 'bridged')]
        out.append(f"| {n} | {_fig(d['mbps'], 1)} | {_fig(b['mbps'], 1)} | "
                   f"{_ratio(d['mbps'], b['mbps'])} | "
                   f"{_fig(d['rtt_ms'], 2)} | {_fig(b['rtt_ms'], 2)} | "
                   f"{_ratio(d['rtt_ms'], b['rtt_ms'])} | "
                   f"{_fig(d['traps_per_l2_packet'], 3)} | "
                   f"{_fig(d['traps_per_wire_frame'], 3)} |")
    return '\n'.join(out) + '\n'


def latency_table(results):
    """Markdown for latency_trace.py's results: a row per hop, a column per
    board setting, medians in ms."""
    cols = results['columns']
    out = [_head(results, f"{results['pings']} pings",
                 f"irq-mode={results['irq_mode']}", 'medians in ms') + ':', '',
           '| hop | ' + ' | '.join(cols) + ' |', '|---|' + '---|' * len(cols)]
    hops = list(dict.fromkeys(h for c in cols.values() for h in c))
    for hop in hops:
        out.append(f'| {hop} | ' + ' | '.join(_fig(c.get(hop), 3)
                                             for c in cols.values()) + ' |')
    return '\n'.join(out) + '\n'


def device_table(results):
    """Markdown for scripts/bench-device.py's results: the switch's rate
    and CPU per frame per board, the host's memcpy beside them, idle."""
    out = [_head(results, f"medians of {results['repeats']} runs") + ':', '',
           '| board | frame bytes | frames/s | per egress engine | Mbit/s | '
           'CPU ns/frame: QEMU | egress | ingress |',
           '|---|---|---|---|---|---|---|---|']
    for r in results['switch']:
        fps = r['frames_per_s']
        out.append(f"| `{r['board']}` | {r['frame_bytes']} | {fps} | "
                   f"{round(fps / r['egress_engines'])} | "
                   f"{fps * r['frame_bytes'] * 8 / 1e6:.0f} | "
                   f"{r['cpu_ns_qemu']} | {r['cpu_ns_egress']} | "
                   f"{r['cpu_ns_ingress']} |")
    out += ['', f"`memcpy` of a 64-byte frame into a 16 MiB working set: "
            f"{results['memcpy_ns_64']:.1f} ns; of a 1514-byte frame: "
            f"{results['memcpy_ns_1514']:.1f} ns. Idle, 32 VIFs: QEMU (qtest "
            f"accel, so device and main loop only) used "
            f"{results['idle_core_percent']:.2f}% of a core."]
    return '\n'.join(out) + '\n'


def _fig(value, places):
    """@value with @places decimals, or '-' when there is none."""
    return '-' if value is None else f'{value:.{places}f}'


def _ratio(a, b):
    return '-' if a is None or not b else f'{a / b:.2f}x'


def table(results):
    """Markdown for one results document."""
    if results.get('bench') == 'nested':
        return nested_table(results)
    if results.get('bench') == 'latency':
        return latency_table(results)
    if results.get('bench') == 'device':
        return device_table(results)
    models, wire = results['models'], results['wire']
    med = {m: {k: _median(v[k]) for k in ('mbps', 'rtt_ms', 'probe_us',
                                          'cores_per_gbit')}
           for m, v in models.items()}
    out = _header(results, results.get('setting', f'a {wire} wire'))
    # RTT against e1000 on L0 (the tap target), against virtio-net under
    # KVM (bench_kvm.py)
    rtt_ref = results.get('rtt_ref', 'e1000')
    cores = results.get('cores', 'host cores')
    virtio, ref = med.get('virtio-net'), med.get(rtt_ref)
    out += [f'| model | Mbit/s | /virtio-net | RTT ms | RTT/{rtt_ref} | '
            f'probe us | {cores} per Gbit/s |', '|---|---|---|---|---|---|---|']
    for m in sorted(med, key=lambda m: -med[m]['mbps']):
        f = med[m]
        vs_virtio = f"{f['mbps'] / virtio['mbps']:.2f}" if virtio else '-'
        vs_e1000 = f"{f['rtt_ms'] / ref['rtt_ms']:.2f}" if ref else '-'
        out.append(f"| {m} | {f['mbps']:.0f} | {vs_virtio} | "
                   f"{f['rtt_ms']:.2f} | {vs_e1000} | {f['probe_us']:.0f} | "
                   f"{f['cores_per_gbit']:.2f} |")
    roles = results.get('roles', ROLES)
    out += ['', f'{cores.capitalize()} during iperf3 by QEMU thread, medians '
            '(per Gbit/s):', '',
            '| model | ' + ' | '.join(roles) + ' |',
            '|---|' + '---|' * len(roles)]
    for m in sorted(med, key=lambda m: -med[m]['mbps']):
        gbps = med[m]['mbps'] / 1000
        cells = []
        for r in roles:
            c = _median(t[r] for t in models[m]['threads'])
            cells.append(f'{c:.2f} ({c / gbps:.2f})')
        out.append(f'| {m} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(out) + '\n'


def _load(path):
    if os.path.isdir(path):
        raise SystemExit(f'{path}: a directory of the kit\'s results needs '
                         'a table name after it')
    with open(path, encoding='utf-8') as f:
        return json.load(f)


@functools.lru_cache
def _kit_figures(out_dir):
    return analysis.load(out_dir)


def kit_table(out_dir, name):
    """Markdown for the table @name of the kit's results in @out_dir; the
    claims under the run's date, commit, command and host load."""
    if not os.path.isdir(out_dir):
        raise SystemExit(f'{out_dir}: not a directory of the experiment '
                         'kit\'s results')
    if name not in analysis.VIEWS:
        raise SystemExit(f"{out_dir}: no table '{name}'; choose from "
                         f"{', '.join(analysis.VIEWS)}")
    figures = _kit_figures(out_dir)
    text = analysis.view(figures, name)
    if text is None:
        raise SystemExit(f'{out_dir}: no {name} figures in these results')
    if name == 'claims':
        try:
            head = _head(_load(os.path.join(out_dir, 'run.json')))
        except (OSError, ValueError, KeyError) as e:
            raise SystemExit(f'{out_dir}/run.json: {e!r}; '
                             'tests/experiments/run.py writes it at the end '
                             'of a run') from None
        text = f'{head}; {analysis.run_line(figures)}\n\n{text}'
    return text + '\n'


def _block(top, m):
    path = os.path.join(top, m[2])
    if m[3]:
        return m[1] + kit_table(path, m[3]) + m[4]
    return m[1] + table(_load(path)) + m[4]


def regenerate(doc_path):
    """DOC's text with every table made again from its results."""
    with open(doc_path, encoding='utf-8') as f:
        text = f.read()
    top = os.path.dirname(os.path.abspath(doc_path))
    if len(BLOCK.findall(text)) != len(MARK.findall(text)):
        raise SystemExit(f'{doc_path}: a "<!-- bench-table PATH [TABLE] -->" '
                         'line without its "<!-- end bench-table -->"')
    return BLOCK.sub(lambda m: _block(top, m), text), text


def main(argv):
    if len(argv) in (1, 2) and not argv[0].startswith('-'):
        sys.stdout.write(kit_table(*argv) if len(argv) == 2
                         else table(_load(argv[0])))
        return 0
    if len(argv) != 2 or argv[0] not in ('--update', '--check'):
        sys.exit(__doc__)
    new, old = regenerate(argv[1])
    if argv[0] == '--update':
        with open(argv[1], 'w', encoding='utf-8') as f:
            f.write(new)
        return 0
    if new != old:
        print(f'{argv[1]}: a table differs from its stored results; '
              f'run scripts/bench-table.py --update {argv[1]}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
