"""The experiment kit's analysis: raw CSVs in, figures and report.md out.

Pure functions over the samples that run.py records, so that `make check`
can run them on a small recorded sample (tests/experiments/sample/):

  fig2_latency.csv     round,setup,n,flow,rtt_us       every psapp round trip
  fig3_throughput.csv  round,setup,n,flow,mbps         every iperf3 flow
  fig7_identifier.csv  round,width,flow,rtt_us         8 guests, width bits
                                                       ('msix': MSI-X)
  host.csv             round,setup,n,seconds,steal_pct,load1,probes_lost
                       the host's load at each point; probes without echo

The paper's latency figure (section 4.2.1) is, for n flows, the mean over
flows of each flow's median round trip; its throughput figure the sum of
the n flows' rates.  Rounds repeat the whole set interleaved; a point's
figure is the median over rounds.
"""

import csv
import os
import statistics
from collections import defaultdict

# What each setup is, in the paper's words (legend and report)
SETUPS = {
    'sv': 'self-virtualized VIFs (identifier)',
    'sv-msix': 'self-virtualized VIFs (MSI-X)',
    'bridged': 'plain NIC + Linux bridge, a veth per guest',
    'dom0': 'plain NIC, the bridging host itself (dom0)',
}


def setup_label(setup):
    """Legend text: the known setups by name, variants as given."""
    if setup in SETUPS:
        return SETUPS[setup]
    base, _, props = setup.partition('+')
    return f'{SETUPS.get(base, base)} [{props}]' if props else setup


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def write_csv(path, fields, rows):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def latency_points(rows):
    """{setup: {n: ms}}: per round, the mean over flows of each flow's
    median RTT; then the median over rounds."""
    per_flow = defaultdict(list)
    for r in rows:
        key = (r['setup'], int(r['n']), int(r['round']), int(r['flow']))
        per_flow[key].append(float(r['rtt_us']) / 1000)
    per_round = defaultdict(list)
    for (setup, n, rnd, _), rtts in per_flow.items():
        per_round[(setup, n, rnd)].append(statistics.median(rtts))
    points = defaultdict(lambda: defaultdict(list))
    for (setup, n, _), medians in per_round.items():
        points[setup][n].append(statistics.fmean(medians))
    return {s: {n: statistics.median(v) for n, v in sorted(by_n.items())}
            for s, by_n in points.items()}


def throughput_points(rows):
    """{setup: {n: Mbit/s}}: per round the sum over flows; median of rounds."""
    per_round = defaultdict(float)
    for r in rows:
        per_round[(r['setup'], int(r['n']), int(r['round']))] += \
            float(r['mbps'])
    points = defaultdict(lambda: defaultdict(list))
    for (setup, n, _), total in per_round.items():
        points[setup][n].append(total)
    return {s: {n: statistics.median(v) for n, v in sorted(by_n.items())}
            for s, by_n in points.items()}


def flow_medians(rows, setup, n):
    """Each flow's median RTT in ms at one point (all rounds pooled)."""
    per_flow = defaultdict(list)
    for r in rows:
        if r['setup'] == setup and int(r['n']) == n:
            per_flow[(r['round'], r['flow'])].append(float(r['rtt_us']) / 1000)
    return [statistics.median(v) for v in per_flow.values()]


# Fig. 7: 8 guests; the driver polls the VIFs of a set bit in index order,
# so the guest in the last spot of its shared bit is the last, VIF 7.
FIG7_GUESTS = 8
FIG7_LAST = FIG7_GUESTS - 1


def sharers(width, vif=FIG7_LAST, vifs=FIG7_GUESTS):
    """The VIFs whose signals share @vif's receive bit (itself included),
    with SELFVIRT_IRQ_TX_BIT/RX_BIT: bits 2v and 2v + 1, modulo @width."""
    bit = (2 * vif + 1) % width
    return [v for v in range(vifs)
            if bit in ((2 * v) % width, (2 * v + 1) % width)]


def last_spot(rows):
    """{width: [RTT ms of the last-spot guest]}, widths as ints, 'msix'."""
    out = defaultdict(list)
    for r in rows:
        if int(r['flow']) == FIG7_LAST:
            w = r['width'] if r['width'] == 'msix' else int(r['width'])
            out[w].append(float(r['rtt_us']) / 1000)
    return dict(out)


class Claim:
    """One of the paper's claims against our figures."""

    def __init__(self, name, paper, ours, verdict, margin):
        self.name = name
        self.paper = paper
        self.ours = ours
        self.verdict = verdict      # 'PASS', 'FAIL' or 'NOT RUN'
        self.margin = margin

    def row(self):
        return (f'| {self.name} | {self.paper} | {self.ours} | '
                f'{self.verdict} | {self.margin} |')


def not_run(name, paper, why):
    return Claim(name, paper, '-', 'NOT RUN', why)


def claim_latency_n1(lat):
    name = 'self-virtualized latency below bridged at n = 1'
    paper = 'about 50% lower'
    try:
        sv, br = lat['sv'][1], lat['bridged'][1]
    except KeyError:
        return not_run(name, paper, 'sv or bridged at n = 1 not measured')
    lower = 1 - sv / br
    return Claim(name, paper, f'{sv:.3f} ms vs {br:.3f} ms: {lower:.0%} lower',
                 'PASS' if sv < br else 'FAIL',
                 f'{lower - 0.5:+.0%} against the paper\'s 50%')


def claim_throughput(thr):
    name = 'TCP above bridged for every n >= 2; the ratio at n = 16'
    paper = '+88% at n = 16'
    if 'sv' not in thr or 'bridged' not in thr:
        return not_run(name, paper, 'sv or bridged throughput not measured')
    ns = sorted(n for n in thr['sv'] if n >= 2 and n in thr['bridged'])
    if not ns:
        return not_run(name, paper, 'no n >= 2 measured in both setups')
    ratios = {n: thr['sv'][n] / thr['bridged'][n] for n in ns}
    worst = min(ratios, key=ratios.get)
    at16 = (f'; n = 16: {ratios[16] - 1:+.0%}' if 16 in ratios else
            '; n = 16 not measured')
    ours = ', '.join(f'n={n}: {r:.2f}x' for n, r in ratios.items()) + at16
    return Claim(name, paper, ours,
                 'PASS' if ratios[worst] > 1 else 'FAIL',
                 f'lowest ratio {ratios[worst]:.2f}x at n = {worst}')


def claim_identifier_step(lat):
    name = ('latency at 32 VIFs (16 identifier bits shared) above 16 VIFs; '
            'MSI-X removes the step')
    paper = 'identifier rises past bridged at 32; MSI-X proposed as the fix'
    try:
        step = lat['sv'][32] / lat['sv'][16]
        msix = lat['sv-msix'][32] / lat['sv-msix'][16]
    except KeyError:
        return not_run(name, paper, 'n = 16 and 32 not measured in both modes')
    # a step, and MSI-X taking at least half of it away
    ok = step > 1.1 and msix - 1 <= (step - 1) / 2
    return Claim(name, paper,
                 f'16 -> 32: identifier x{step:.2f}, MSI-X x{msix:.2f}',
                 'PASS' if ok else 'FAIL',
                 f'identifier step {step - 1:+.0%}, MSI-X {msix - 1:+.0%} '
                 '(PASS: a step above 10%, MSI-X at most half of it)')


def claim_dom0(lat):
    name = 'one VIF costs about what the plain NIC costs its own host'
    paper = 'single-VIF latency similar to dom0 on the plain NIC'
    try:
        sv, d0 = lat['sv'][1], lat['dom0'][1]
    except KeyError:
        return not_run(name, paper, 'sv or dom0 at n = 1 not measured')
    ratio = sv / d0
    return Claim(name, paper, f'{sv:.3f} ms vs {d0:.3f} ms ({ratio:.2f}x)',
                 'PASS' if 0.75 <= ratio <= 1.25 else 'FAIL',
                 f'{ratio - 1:+.0%} (PASS within 25%)')


def claim_identifier_width(spot):
    name = 'latency falls as identifier bits rise (Fig. 7)'
    paper = 'the last-spot guest waits less with more bits'
    widths = sorted(w for w in spot if w != 'msix')
    if len(widths) < 2:
        return not_run(name, paper, 'fewer than two identifier widths')
    lo, hi = widths[0], widths[-1]
    m_lo, m_hi = statistics.median(spot[lo]), statistics.median(spot[hi])
    return Claim(name, paper, f'{lo} bit(s): {m_lo:.2f} ms, {hi} bits: '
                 f'{m_hi:.2f} ms', 'PASS' if m_hi < m_lo else 'FAIL',
                 f'{m_hi / m_lo - 1:+.0%} from {lo} to {hi} bits')


def claims(lat, thr, spot=None):
    return [
        claim_latency_n1(lat),
        claim_throughput(thr),
        claim_identifier_step(lat),
        claim_dom0(lat),
        not_run('egress stage cost grows with VIFs, ingress demux flat '
                '(Fig. 4)', 'egress grows, demux flat (hashing)',
                'stage timing is not in the model yet'),
        claim_identifier_width(spot or {}),
    ]


def plot_lines(points, ylabel, title, path, dotted=('dom0',)):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for setup, by_n in sorted(points.items()):
        ns = sorted(by_n)
        if setup in dotted:
            ax.axhline(by_n[ns[0]], linestyle=':', color='grey',
                       label=setup_label(setup))
            continue
        ax.plot(ns, [by_n[n] for n in ns], marker='o',
                label=setup_label(setup))
    ax.set_xscale('log', base=2)
    all_n = sorted({n for by_n in points.values() for n in by_n})
    ax.set_xticks(all_n)
    ax.set_xticklabels([str(n) for n in all_n])
    ax.set_xlabel('guests per host (n, n:1x1)')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_profile(rows, n, path):
    """Fig. 6: the distribution of the flows' median RTTs at n guests,
    identifier against MSI-X (and the bridge for reference)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    setups = [s for s in ('sv', 'sv-msix', 'bridged')
              if flow_medians(rows, s, n)]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.boxplot([flow_medians(rows, s, n) for s in setups])
    ax.set_xticks(range(1, len(setups) + 1))
    short = {'sv': 'VIFs, identifier', 'sv-msix': 'VIFs, MSI-X',
             'bridged': 'plain NIC + bridge'}
    ax.set_xticklabels([short[s] for s in setups])
    ax.set_ylabel('median RTT of each flow (ms)')
    ax.set_title(f'Fig. 6: latency profile of {n} concurrent guests')
    ax.set_ylim(bottom=0)
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def profile_table(rows, n):
    lines = ['| setup | flows | min | quartile 1 | median | quartile 3 | '
             'max |', '|---|---|---|---|---|---|---|']
    for s in ('sv', 'sv-msix', 'bridged'):
        med = sorted(flow_medians(rows, s, n))
        if len(med) < 2:
            continue
        q1, q2, q3 = statistics.quantiles(med, n=4)
        lines.append(f'| {setup_label(s)} | {len(med)} | {med[0]:.2f} | '
                     f'{q1:.2f} | {q2:.2f} | {q3:.2f} | {med[-1]:.2f} |')
    return '\n'.join(lines) + '\n\n(ms; each flow\'s median over its probes)'


def plot_identifier(spot, path):
    """Fig. 7: boxplots of the last-spot guest's RTT per identifier width."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    keys = sorted(w for w in spot if w != 'msix') + \
        (['msix'] if 'msix' in spot else [])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.boxplot([spot[k] for k in keys], showfliers=False)
    ax.set_xticks(range(1, len(keys) + 1))
    ax.set_xticklabels([str(k) if k != 'msix' else 'MSI-X' for k in keys])
    ax.set_xlabel('identifier bits shared by 8 guests')
    ax.set_ylabel('RTT of the last-spot guest (ms)')
    ax.set_title('Fig. 7: interrupt identifier width')
    ax.set_ylim(bottom=0)
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def identifier_table(spot):
    lines = ['| identifier | VIFs on its bit | probes | quartile 1 | '
             'median | quartile 3 |', '|---|---|---|---|---|---|']
    keys = sorted(w for w in spot if w != 'msix') + \
        (['msix'] if 'msix' in spot else [])
    for k in keys:
        v = sorted(spot[k])
        q1, q2, q3 = statistics.quantiles(v, n=4) if len(v) > 1 else (v * 3)
        name = 'MSI-X' if k == 'msix' else f'{k} bit(s)'
        share = '1 (a vector)' if k == 'msix' else str(len(sharers(k)))
        lines.append(f'| {name} | {share} | {len(v)} | {q1:.2f} | {q2:.2f} | '
                     f'{q3:.2f} |')
    return '\n'.join(lines) + '\n\n(ms; VIF 7, polled last of its bit)'


def table(points, unit, fmt):
    ns = sorted({n for by_n in points.values() for n in by_n})
    lines = ['| setup | ' + ' | '.join(f'n={n}' for n in ns) + ' |',
             '|---|' + '---|' * len(ns)]
    for setup, by_n in sorted(points.items()):
        cells = [fmt.format(by_n[n]) if n in by_n else '-' for n in ns]
        lines.append(f'| {setup_label(setup)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + f'\n\n({unit})'


def host_load(rows):
    if not rows:
        return 'not recorded'
    steal = [float(r['steal_pct']) for r in rows]
    load = [float(r['load1']) for r in rows]
    lost = sum(int(r.get('probes_lost') or 0) for r in rows)
    return (f'host steal time {statistics.median(steal):.1f}% median '
            f'(max {max(steal):.1f}%), load average {min(load):.2f}..'
            f'{max(load):.2f} over {len(rows)} points; {lost} psapp probes '
            'lost (no echo within 1 s)')


EMULATION = """## What the emulation changes

- The paper's guests are Xen domUs and its baseline bridges in dom0, a
  domain of its own that must be scheduled for every frame; that scheduling
  is what self-virtualization saves.  Here a guest is a network namespace
  of one Linux guest and the bridge runs in the same kernel, a function
  call away: the baseline pays no domain switch, so the paper's margin
  cannot appear at its size.  `make bench-nested` measures the paper's own shape (an
  L2 VM on its VIF against an L2 VM behind an L1 bridge).
- The board is emulated by host threads that share the machine's two cores
  with the guests' vCPUs (TCG); the paper's IXP2400 had its own
  micro-engines.  Every figure here includes that contention; the host's
  steal time is given above.
- With many flows, one vCPU per guest runs all n clients or servers: the
  figures at large n measure the guest's CPU as much as the NIC.
- A shared identifier bit costs the paper a domain schedule per
  redundant wake-up (Fig. 7); here a redundant NAPI poll in the same
  kernel, microseconds: the width's effect is expected to be small.
- psapp's probes wait 0..100 ms between round trips, as in the paper; a
  quick run has few probes per flow, so its medians are noisy.
"""


def report(out_dir, meta=''):
    """Analyse out_dir's CSVs: write the figures and report.md; return the
    claims."""
    lat_rows = read_csv(os.path.join(out_dir, 'fig2_latency.csv'))
    thr_rows = read_csv(os.path.join(out_dir, 'fig3_throughput.csv'))
    host_path = os.path.join(out_dir, 'host.csv')
    host_rows = read_csv(host_path) if os.path.exists(host_path) else []
    lat = latency_points(lat_rows)
    thr = throughput_points(thr_rows)
    ident_path = os.path.join(out_dir, 'fig7_identifier.csv')
    spot = last_spot(read_csv(ident_path)) if os.path.exists(ident_path) \
        else {}
    plot_lines(lat, 'RTT (ms): mean over flows of each flow\'s median',
               'Fig. 2: latency (psapp, 64-byte raw probes)',
               os.path.join(out_dir, 'fig2_latency.png'))
    plot_lines(thr, 'aggregate TCP (Mbit/s)',
               'Fig. 3: aggregate TCP throughput (iperf3)',
               os.path.join(out_dir, 'fig3_throughput.png'))
    results = claims(lat, thr, spot)
    if spot:
        plot_identifier(spot, os.path.join(out_dir, 'fig7_identifier.png'))
    n_max = max((n for s in ('sv', 'sv-msix') for n in lat.get(s, {})),
                default=None)
    if n_max:
        plot_profile(lat_rows, n_max, os.path.join(out_dir, 'fig6_profile.png'))
    rounds = len({r['round'] for r in lat_rows})
    with open(os.path.join(out_dir, 'report.md'), 'w') as f:
        f.write('# selfvirt: the paper\'s evaluation under emulation\n\n')
        if meta:
            f.write(meta.rstrip() + '\n\n')
        f.write(f'{rounds} round(s); {host_load(host_rows)}.\n\n')
        f.write('## Claims\n\n| claim | paper | ours | verdict | margin |\n'
                '|---|---|---|---|---|\n')
        f.write('\n'.join(c.row() for c in results) + '\n\n')
        f.write('## Fig. 2: latency\n\n![Fig. 2](fig2_latency.png)\n\n')
        f.write(table(lat, 'ms', '{:.3f}') + '\n\n')
        f.write('## Fig. 3: throughput\n\n![Fig. 3](fig3_throughput.png)\n\n')
        f.write(table(thr, 'Mbit/s, sum of the n flows', '{:.0f}') + '\n')
        if n_max:
            f.write(f'\n## Fig. 6: latency profile at n = {n_max}\n\n'
                    '![Fig. 6](fig6_profile.png)\n\n' +
                    profile_table(lat_rows, n_max) + '\n')
        if spot:
            f.write('\n## Fig. 7: identifier width, 8 guests\n\n'
                    '![Fig. 7](fig7_identifier.png)\n\n' +
                    identifier_table(spot) + '\n')
        f.write('\n' + EMULATION)
    return results
