"""The experiment kit's analysis: raw CSVs in, figures and report.md out.

Pure functions over the samples that run.py records, so that `make check`
can run them on a small recorded sample (tests/experiments/sample/):

  fig2_latency.csv     round,setup,n,flow,rtt_us       every psapp round trip
  fig3_throughput.csv  round,setup,n,flow,mbps         every iperf3 flow
  fig7_identifier.csv  round,width,flow,rtt_us         8 guests, width bits
                                                       ('msix': MSI-X)
  fig4_stages.csv      round,mode,n,board,stage,frames,ns
                                                       the boards' stage sums
                                                       over n TCP flows
  host_costs.csv       round,mode,n,board,metric,events,ns
                                                       the drivers' costs
                                                       (section 4.3.1)
  wakeups.csv          round,mode,n,board,polls,redundant_polls,empty_polls
                                                       the VIFs' wake-ups over
                                                       the same points
  host.csv             round,setup,n,seconds,steal_pct,load1,probes_lost
                       the host's load at each point; probes without echo
  fig9_pingpong.csv    round,board,pair,host,rtt_us,count
                                                       every round trip of the
                                                       mailbox ping-pong, as
                                                       counts per 1% bucket
  fig10_board_cpu.csv  round,board,pair,host,rounds,seconds,engines_ns,
                       vcpus_ns,doorbells,signals      what each ping-pong
                                                       cost the board's
                                                       engines and the vCPUs
  fig5_bandwidth.csv   round,board,path,mibs          1500-byte copies, MiB/s

The paper's latency figure (section 4.2.1) is, for n flows, the mean over
flows of each flow's median round trip; its throughput figure the sum of
the n flows' rates.  Rounds repeat the whole set interleaved; a point's
figure is the median over rounds.
"""

import csv
import os
import statistics
import types
from collections import defaultdict

# What each setup is, in the paper's words (legend and report)
SETUPS = {
    'vm-sv': 'VMs on VIFs of their own (identifier)',
    'vm-sv-msix': 'VMs on VIFs of their own (MSI-X)',
    'vm-bridged': 'VMs behind the host\'s bridge (virtio-net, vhost-net)',
    'vm-bridged-user': 'VMs behind the host\'s bridge (virtio-net, QEMU)',
    'vm-dom0': 'the VMs\' host itself on its bridge (dom0)',
    'sv': 'namespaces on VIFs (identifier)',
    'sv-msix': 'namespaces on VIFs (MSI-X)',
    'bridged': 'namespaces behind a bridge (veth)',
    'dom0': 'the namespaces\' host on its bridge',
}
# Each set of guests: its setups under common names, and its label
GUESTS = {
    'vms': {'label': 'VMs', 'sv': 'vm-sv', 'msix': 'vm-sv-msix',
            'bridged': 'vm-bridged', 'dom0': 'vm-dom0'},
    'namespaces': {'label': 'namespaces', 'sv': 'sv', 'msix': 'sv-msix',
                   'bridged': 'bridged', 'dom0': 'dom0'},
}
DOTTED = ('dom0', 'vm-dom0')


def is_vm(setup):
    return setup.startswith('vm-')


def setup_label(setup):
    """Legend text: the known setups by name, variants as given."""
    if setup in SETUPS:
        return SETUPS[setup]
    base, _, props = setup.partition('+')
    return f'{SETUPS.get(base, base)} [{props}]' if props else setup


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def read_optional(out_dir, name):
    """The rows of @name in @out_dir, or none when it was not run."""
    path = os.path.join(out_dir, name)
    return read_csv(path) if os.path.exists(path) else []


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


def last_spot(rows, guests='namespaces'):
    """{width: [RTT ms of the last-spot guest]}, widths as ints, 'msix', of
    the @guests' rows (rows without the column: namespaces)."""
    out = defaultdict(list)
    for r in rows:
        if int(r['flow']) == FIG7_LAST and \
                r.get('guests', 'namespaces') == guests:
            w = r['width'] if r['width'] == 'msix' else int(r['width'])
            out[w].append(float(r['rtt_us']) / 1000)
    return dict(out)


# Fig. 4: the paper's stages, each on the board that runs it for the data
# (egress on the sending board, ingress on the receiving one)
FIG4_STAGES = {
    'egress': [('egress-msg-recv', 'msg recv'), ('egress-pkt-tx', 'pkt tx')],
    'ingress': [('ingress-pkt-rx', 'pkt rx'), ('ingress-demux', 'channel demux'),
                ('ingress-msg-send', 'msg send')],
}
FIG4_BOARD = {'egress': 'left', 'ingress': 'right'}


def us_per_unit(rows, what, count):
    """{(mode, board, the row's @what): {n: us per @count}}: the median
    over rounds of each round's ns / @count (Fig. 4 and the host costs)."""
    per = defaultdict(list)
    for r in rows:
        if int(r[count]) > 0:
            key = (r.get('mode', 'identifier'), r['board'], r[what],
                   int(r['n']))
            per[key].append(int(r['ns']) / int(r[count]) / 1000)
    out = defaultdict(dict)
    for (mode, board, name, n), v in per.items():
        out[(mode, board, name)][n] = statistics.median(v)
    return out


def stage_points(rows):
    """{path: {stage: {n: us per frame}}}, identifier mode (the paper's)."""
    per = us_per_unit(rows, 'stage', 'frames')
    return {path: {st: per.get(('identifier', FIG4_BOARD[path], st), {})
                   for st, _ in stages}
            for path, stages in FIG4_STAGES.items()}


def path_cost(stages, path, n):
    """One path's cost per frame at n: the sum of its stages, or None."""
    try:
        return sum(stages[path][st][n] for st, _ in FIG4_STAGES[path])
    except KeyError:
        return None


# Section 4.3.1: each host cost on the host that pays it for the data
HOST_COSTS = [('message send', 'left', 'host_send'),
              ('message receive', 'right', 'host_recv'),
              ('interrupt virtualization', 'right', None)]
IRQ_METRIC = {'identifier': 'host_master_irq', 'msix': 'host_vector_irq'}


def cost_points(rows):
    """{mode: {cost: {n: us per event}}}, the median over rounds."""
    per = us_per_unit(rows, 'metric', 'events')
    return {mode: {cost: per.get((mode, board, metric or irq), {})
                   for cost, board, metric in HOST_COSTS}
            for mode, irq in IRQ_METRIC.items()}


IRQ_ID_WIDTH = 16          # the device's default identifier width


def wakeup_points(rows):
    """{mode: {n: wake-ups in vain per useful poll}}: both boards' VIFs
    summed, the median over rounds.  In vain: redundant_polls (an empty
    poll, or a signal while polling); useful: the polls that found work."""
    per = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[r['mode']][(int(r['n']), r['round'])].append(r)
    out = defaultdict(lambda: defaultdict(list))
    for mode, points in per.items():
        for (n, _), boards in points.items():
            vain = sum(int(b['redundant_polls']) for b in boards)
            useful = sum(int(b['polls']) - int(b['empty_polls'])
                         for b in boards)
            if useful > 0:
                out[mode][n].append(vain / useful)
    return {mode: {n: statistics.median(v) for n, v in by.items()}
            for mode, by in out.items()}


def wakeup_theory(vifs, width=IRQ_ID_WIDTH):
    """Wake-ups in vain per useful one when a VIF signals and the others
    on its bit have nothing: VIF i signals on bits 2i and 2i+1 (mod width),
    so ceil(2 * vifs / width) VIFs share a bit and k VIFs wake k - 1 in
    vain."""
    return max(-(-2 * vifs // width), 1) - 1


def claim_wakeups(wk):
    name = ('namespaces: shared identifier bits wake VIFs in vain beyond 8 '
            'VIFs; MSI-X does not')
    paper = 'more than 8 VIFs: domains signalled redundantly (section 4.3.1)'
    try:
        i8, i32 = wk['identifier'][8], wk['identifier'][32]
        m32 = wk['msix'][32]
    except KeyError:
        return not_run(name, paper, '8 and 32 VIFs not measured in both modes')
    ok = i32 > i8 and m32 < i32 / 2
    return Claim(name, paper, f'identifier {i8:.2f} at 8 VIFs, {i32:.2f} at '
                 f'32 (theory {wakeup_theory(32)}); MSI-X {m32:.2f} at 32',
                 'PASS' if ok else 'FAIL',
                 f'identifier {i32 - i8:+.2f} from 8 to 32 VIFs; MSI-X '
                 f'{m32 / i32 if i32 else 0:.2f}x the identifier at 32 (PASS: '
                 'a rise, and MSI-X below half)')


def claim_vm_wakeups(wk, g=GUESTS['vms']):
    """The VMs' wake-ups in vain at their largest n near the theory (within
    a quarter), and MSI-X's below half of them."""
    name = (f'{g["label"]}: wake-ups in vain at the most VMs near the theory; '
            'MSI-X below half of them')
    paper = 'a bit shared by k VIFs wakes k - 1 domains in vain'
    try:
        n = max(wk[g['sv']])
        ident, msix = wk[g['sv']][n], wk[g['msix']][n]
    except (KeyError, ValueError):
        return not_run(name, paper, 'VMs on VIFs not measured in both modes')
    theory = wakeup_theory(n)
    near = abs(ident - theory) <= max(theory, 1) / 4
    return Claim(name, paper, f'{n} VMs a side: identifier {ident:.2f} (theory '
                 f'{theory}), MSI-X {msix:.2f}',
                 'PASS' if near and msix < max(ident, 1) / 2 else 'FAIL',
                 f'{ident - theory:+.2f} from the theory (PASS: within a '
                 'quarter of it, or of 1)')


WAKEUP_MODES = {'vm-sv': 'VMs, identifier (16 bits)', 'vm-sv-msix': 'VMs, MSI-X',
                'identifier': 'namespaces, identifier (16 bits)',
                'msix': 'namespaces, MSI-X'}


def plot_wakeups(wk, path):
    """Wake-ups in vain per useful poll against VIFs, with the theory."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ns = sorted({n for by in wk.values() for n in by})
    ax.plot(ns, [wakeup_theory(n) for n in ns], 'k:', label='theory: a bit '
            'shared by k VIFs wakes k-1 in vain')
    for mode, by in sorted(wk.items()):
        pts = sorted(by.items())
        ax.plot([n for n, _ in pts], [v for _, v in pts],
                marker='s' if is_vm(mode) else 'o',
                linestyle='-' if is_vm(mode) else '--',
                label=WAKEUP_MODES.get(mode, mode))
    ax.set_xscale('log', base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_xlabel('VIFs a side, VMs or namespaces (each moving one TCP '
                  'flow)')
    ax.set_ylabel('wake-ups in vain per useful poll')
    ax.set_title('Redundant wake-ups')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def wakeups_table(wk):
    ns = sorted({n for by in wk.values() for n in by})
    lines = ['| | ' + ' | '.join(f'{n} VIF(s)' for n in ns) + ' |',
             '|---|' + '---|' * len(ns),
             '| theory (identifier) | ' + ' | '.join(
                 str(wakeup_theory(n)) for n in ns) + ' |']
    for mode, by in sorted(wk.items()):
        lines.append(f'| {WAKEUP_MODES.get(mode, mode)} | ' + ' | '.join(
            f'{by[n]:.2f}' if n in by else '-' for n in ns) + ' |')
    return '\n'.join(lines) + '\n\n(wake-ups in vain per useful poll, ' \
        'both boards, median over rounds)'


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


def claim_latency_n1(lat, g=GUESTS['namespaces'], target=None):
    """At n = 1, a guest on a VIF against one behind the bridge; PASS when
    lower, or with @target when at most @target times the bridged RTT."""
    name = f'{g["label"]}: latency on a VIF below bridged at n = 1'
    paper = 'about 50% lower'
    try:
        sv, br = lat[g['sv']][1], lat[g['bridged']][1]
    except KeyError:
        return not_run(name, paper, f'{g["sv"]} or {g["bridged"]} at n = 1 '
                       'not measured')
    lower = 1 - sv / br
    ok = sv < br if target is None else sv / br <= target
    rule = '' if target is None else f' (PASS: at most {target}x bridged)'
    return Claim(name, paper, f'{sv:.3f} ms vs {br:.3f} ms: {lower:.0%} lower',
                 'PASS' if ok else 'FAIL',
                 f'{sv / br:.2f}x; {lower - 0.5:+.0%} against the paper\'s '
                 f'50%{rule}')


def claim_throughput(thr, g=GUESTS['namespaces'], n_min=2):
    name = (f'{g["label"]}: TCP on VIFs above bridged for every n >= {n_min}; '
            'the ratio at n = 16')
    paper = '+88% at n = 16'
    sv, br = g['sv'], g['bridged']
    if sv not in thr or br not in thr:
        return not_run(name, paper, f'{sv} or {br} throughput not measured')
    ns = sorted(n for n in thr[sv] if n >= n_min and n in thr[br])
    if not ns:
        return not_run(name, paper, f'no n >= {n_min} measured in both setups')
    ratios = {n: thr[sv][n] / thr[br][n] for n in ns}
    worst = min(ratios, key=ratios.get)
    at16 = (f'; n = 16: {ratios[16] - 1:+.0%}' if 16 in ratios else
            '; n = 16 not measured')
    ours = ', '.join(f'n={n}: {r:.2f}x' for n, r in ratios.items()) + at16
    return Claim(name, paper, ours,
                 'PASS' if ratios[worst] > 1 else 'FAIL',
                 f'lowest ratio {ratios[worst]:.2f}x at n = {worst}')


def claim_n16(lat, thr, g=GUESTS['vms']):
    """The paper's figures at n = 16: RTT at most 0.77x bridged's, TCP at
    least 1.88x."""
    name = f'{g["label"]}: at n = 16, RTT at most 0.77x and TCP at least ' \
        '1.88x bridged'
    paper = 'RTT -23%, TCP +88% at n = 16'
    try:
        rtt = lat[g['sv']][16] / lat[g['bridged']][16]
        tcp = thr[g['sv']][16] / thr[g['bridged']][16]
    except KeyError:
        return not_run(name, paper, 'n = 16 not measured on VIFs and bridged')
    return Claim(name, paper, f'RTT {rtt:.2f}x, TCP {tcp:.2f}x',
                 'PASS' if rtt <= 0.77 and tcp >= 1.88 else 'FAIL',
                 f'RTT {rtt - 0.77:+.2f}, TCP {tcp - 1.88:+.2f} against the '
                 'targets')


def claim_identifier_step(lat, g=GUESTS['namespaces']):
    name = (f'{g["label"]}: latency at 32 VIFs (16 identifier bits shared) '
            'above 16 VIFs; MSI-X removes the step')
    paper = 'identifier rises past bridged at 32; MSI-X proposed as the fix'
    try:
        step = lat[g['sv']][32] / lat[g['sv']][16]
        msix = lat[g['msix']][32] / lat[g['msix']][16]
    except KeyError:
        return not_run(name, paper, 'n = 16 and 32 not measured in both modes')
    # a step, and MSI-X taking at least half of it away
    ok = step > 1.1 and msix - 1 <= (step - 1) / 2
    return Claim(name, paper,
                 f'16 -> 32: identifier x{step:.2f}, MSI-X x{msix:.2f}',
                 'PASS' if ok else 'FAIL',
                 f'identifier step {step - 1:+.0%}, MSI-X {msix - 1:+.0%} '
                 '(PASS: a step above 10%, MSI-X at most half of it)')


def claim_dom0(lat, g=GUESTS['namespaces']):
    name = f'{g["label"]}: one VIF costs about what the plain NIC costs ' \
        'its own host'
    paper = 'single-VIF latency similar to dom0 on the plain NIC'
    try:
        sv, d0 = lat[g['sv']][1], lat[g['dom0']][1]
    except KeyError:
        return not_run(name, paper, f'{g["sv"]} or {g["dom0"]} at n = 1 not '
                       'measured')
    ratio = sv / d0
    return Claim(name, paper, f'{sv:.3f} ms vs {d0:.3f} ms ({ratio:.2f}x)',
                 'PASS' if 0.75 <= ratio <= 1.25 else 'FAIL',
                 f'{ratio - 1:+.0%} (PASS within 25%)')


def claim_identifier_width(spot, label='namespaces'):
    name = f'{label}: latency falls as identifier bits rise (Fig. 7)'
    paper = 'the last-spot guest waits less with more bits'
    widths = sorted(w for w in spot if w != 'msix')
    if len(widths) < 2:
        return not_run(name, paper, 'fewer than two identifier widths')
    lo, hi = widths[0], widths[-1]
    m_lo, m_hi = statistics.median(spot[lo]), statistics.median(spot[hi])
    return Claim(name, paper, f'{lo} bit(s): {m_lo:.2f} ms, {hi} bits: '
                 f'{m_hi:.2f} ms', 'PASS' if m_hi < m_lo else 'FAIL',
                 f'{m_hi / m_lo - 1:+.0%} from {lo} to {hi} bits')


def claim_stages(stages):
    name = 'egress cost per frame grows from 1 to 32 VIFs, ingress stays flat (Fig. 4)'
    paper = 'egress grows (SDRAM polling contention), ingress flat (hashing)'
    e1, e32 = path_cost(stages, 'egress', 1), path_cost(stages, 'egress', 32)
    i1, i32 = path_cost(stages, 'ingress', 1), path_cost(stages, 'ingress', 32)
    if None in (e1, e32, i1, i32):
        return not_run(name, paper, 'stages at 1 and 32 VIFs not measured')
    grows = e32 / e1 > 1.1
    flat = 0.75 <= i32 / i1 <= 1.25
    return Claim(name, paper, f'egress {e1:.2f} -> {e32:.2f} us, ingress '
                 f'{i1:.2f} -> {i32:.2f} us per frame',
                 'PASS' if grows and flat else 'FAIL',
                 f'egress {e32 / e1 - 1:+.0%} (PASS: above +10%), ingress '
                 f'{i32 / i1 - 1:+.0%} (PASS: within 25%)')


def claim_host_costs(costs):
    name = ('interrupt virtualization grows from 1 to 32 VIFs (identifier), '
            'message send and receive stay flat (section 4.3.1)')
    paper = 'irq 1.99 -> 11.57 us; send 14.47, receive 9.42 us, little change'
    try:
        c = costs['identifier']
        irq = [c['interrupt virtualization'][n] for n in (1, 32)]
        send = [c['message send'][n] for n in (1, 32)]
        recv = [c['message receive'][n] for n in (1, 32)]
    except KeyError:
        return not_run(name, paper, 'host costs at 1 and 32 VIFs not measured')
    grows = irq[1] / irq[0] > 1.25
    flat = all(0.75 <= x[1] / x[0] <= 1.25 for x in (send, recv))
    return Claim(name, paper, f'irq {irq[0]:.2f} -> {irq[1]:.2f} us, send '
                 f'{send[0]:.2f} -> {send[1]:.2f}, receive {recv[0]:.2f} -> '
                 f'{recv[1]:.2f} us', 'PASS' if grows and flat else 'FAIL',
                 f'irq {irq[1] / irq[0] - 1:+.0%} (PASS: above +25%), send '
                 f'{send[1] / send[0] - 1:+.0%}, receive '
                 f'{recv[1] / recv[0] - 1:+.0%} (PASS: within 25%)')


def costs_table(costs):
    ns = sorted({n for m in costs.values() for v in m.values() for n in v})
    rows = ['| mode | cost | ' + ' | '.join(f'{n} VIF(s)' for n in ns) + ' |',
            '|' + '---|' * (len(ns) + 2)]
    for mode, by_cost in costs.items():
        for cost, by_n in by_cost.items():
            cells = [f'{by_n[n]:.2f}' if n in by_n else '-' for n in ns]
            rows.append(f'| {mode} | {cost} | ' + ' | '.join(cells) + ' |')
    return 'us per event, median over rounds\n\n' + '\n'.join(rows)


# Figs. 9/10: the ping-pongs, in the figures' order
PINGPONGS = [
    # (board, pair, host): label
    (('polls', 'cpu-cpu', 'poll'), 'CPU-CPU\npoll/poll'),
    (('polls', 'cpu-cpu', 'irq'), 'CPU-CPU\npoll/IRQ'),
    (('polls', 'cpu-board', 'poll'), 'CPU-board\npoll/poll'),
    (('polls', 'cpu-board', 'irq'), 'CPU-board\npoll/IRQ'),
]
BOARD_POLICIES = {
    'polls': 'board polls SDRAM',
    'sleeps': 'board sleeps until the doorbell',
    'inline': 'doorbell runs the board (default)',
}
FIG5_PATHS = {
    'host_write_sdram': 'host writes\nboard SDRAM',
    'host_read_sdram': 'host reads\nboard SDRAM',
    'host_write_ram': 'host writes\nhost RAM',
    'host_read_ram': 'host reads\nhost RAM',
    'board_sdram_to_host': 'board: SDRAM\nto host RAM',
}


def weighted_quantile(pairs, q):
    """The @q quantile of samples given as sorted (value, count) pairs."""
    total = sum(n for _, n in pairs)
    seen = 0
    for value, n in pairs:
        seen += n
        if seen >= q * total:
            return value
    return pairs[-1][0]


def pingpong_counts(rows):
    """{(board, pair, host): {round: [(us, count), ...] ascending}}."""
    per = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[(r['board'], r['pair'], r['host'])][r['round']].append(
            (float(r['rtt_us']), int(r['count'])))
    return {k: {rnd: sorted(v) for rnd, v in by.items()}
            for k, by in per.items()}


def pingpong_points(rows):
    """{(board, pair, host): us}: the median over rounds of each round's
    median round trip."""
    return {k: statistics.median(weighted_quantile(v, 0.5)
                                 for v in by.values())
            for k, by in pingpong_counts(rows).items()}


def pingpong_boxes(rows):
    """{(board, pair, host): boxplot stats} over all rounds' round trips:
    quartiles, whiskers at the 5th and 95th percentiles."""
    boxes = {}
    for k, by in pingpong_counts(rows).items():
        pooled = defaultdict(int)
        for v in by.values():
            for us, n in v:
                pooled[us] += n
        pairs = sorted(pooled.items())
        q = [weighted_quantile(pairs, x) for x in (0.05, 0.25, 0.5, 0.75, 0.95)]
        boxes[k] = {'whislo': q[0], 'q1': q[1], 'med': q[2], 'q3': q[3],
                    'whishi': q[4], 'fliers': [],
                    'n': sum(n for _, n in pairs)}
    return boxes


def board_cpu_points(rows):
    """{(board, pair, host): {...}}: the board's engines' CPU per round
    trip (us) and as a share of one core over the ping-pong's seconds, the
    doorbells and signals per round trip; medians over rounds."""
    per = defaultdict(lambda: defaultdict(list))
    for r in rows:
        key = (r['board'], r['pair'], r['host'])
        n = max(int(r['rounds']), 1)
        engines_us = int(r['engines_ns']) / 1000
        m = per[key]
        m['engines_us'].append(engines_us / n)
        m['engines_share'].append(engines_us / 1e6 / float(r['seconds']))
        m['doorbells'].append(int(r['doorbells']) / n)
        m['signals'].append(int(r['signals']) / n)
    return {k: {f: statistics.median(v) for f, v in m.items()}
            for k, m in per.items()}


def bandwidth_points(rows):
    """{board: {path: MiB/s}}, the median over rounds."""
    per = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[r['board']][r['path']].append(float(r['mibs']))
    return {b: {p: statistics.median(v) for p, v in by.items()}
            for b, by in per.items()}


def claim_core_to_core(pp):
    name = 'two CPUs exchange a word faster than a CPU and the board (Fig. 9)'
    paper = 'CPU-CPU below CPU-NP, poll/poll and poll/IRQ'
    keys = [k for k, _ in PINGPONGS]
    if not all(k in pp for k in keys):
        return not_run(name, paper, 'the four ping-pongs not measured')
    cc_poll, cc_irq, cb_poll, cb_irq = (pp[k] for k in keys)
    ok = cc_poll < cb_poll and cc_irq < cb_irq
    return Claim(name, paper, f'poll/poll {cc_poll:.1f} vs {cb_poll:.1f} us, '
                 f'poll/IRQ {cc_irq:.1f} vs {cb_irq:.1f} us',
                 'PASS' if ok else 'FAIL',
                 f'the board {cb_poll / cc_poll:.1f}x and {cb_irq / cc_irq:.1f}x '
                 'the CPU-CPU round trip')


def claim_polling_beats_irq(pp):
    name = 'polling for the answer beats taking its interrupt (Fig. 9)'
    paper = 'poll/poll below poll/IRQ: the IRQ costs context switches and demultiplexing'
    try:
        poll = pp[('polls', 'cpu-board', 'poll')]
        irq = pp[('polls', 'cpu-board', 'irq')]
    except KeyError:
        return not_run(name, paper, 'CPU-board ping-pongs not measured')
    return Claim(name, paper, f'CPU-board {poll:.1f} us polling, {irq:.1f} us '
                 'with the MSI', 'PASS' if poll < irq else 'FAIL',
                 f'the interrupt adds {irq - poll:.1f} us ({irq / poll:.1f}x)')


def claim_sleeping_board(pp, cpu):
    name = ('a board that sleeps until the doorbell answers almost as fast '
            'as one that polls, for less CPU (Fig. 10, section 5.2)')
    paper = 'power-efficient polling (MWAIT): minor latency degradation'
    key_p, key_s = ('polls', 'cpu-board', 'poll'), ('sleeps', 'cpu-board', 'poll')
    if key_p not in pp or key_s not in pp or key_p not in cpu or key_s not in cpu:
        return not_run(name, paper, 'polling and sleeping boards not measured')
    ratio = pp[key_s] / pp[key_p]
    cp, cs = cpu[key_p]['engines_share'], cpu[key_s]['engines_share']
    return Claim(name, paper, f'{pp[key_p]:.1f} us polling ({cp:.0%} of a core), '
                 f'{pp[key_s]:.1f} us sleeping ({cs:.0%})',
                 'PASS' if ratio <= 1.5 and cs < cp else 'FAIL',
                 f'sleeping {ratio:.1f}x the round trip (PASS: at most 1.5x, '
                 'and less CPU)')


def claim_pci_asymmetry(bw):
    name = 'host reads of the board are much slower than writes (Fig. 5)'
    paper = 'PCI favours writes over reads'
    m = bw.get('polls') or next(iter(bw.values()), None)
    if not m or 'host_read_sdram' not in m or 'host_write_sdram' not in m:
        return not_run(name, paper, 'BAR copies not measured')
    r, w = m['host_read_sdram'], m['host_write_sdram']
    return Claim(name, paper, f'read {r:.0f}, write {w:.0f} MiB/s',
                 'PASS' if r < w / 2 else 'FAIL',
                 f'read/write {r / w:.2f} (PASS: below 0.5)')


def claim_board_bottleneck(bw):
    name = "the board's path up to host memory is the bottleneck (Fig. 5)"
    paper = 'the NP-NIC ingress path limits throughput'
    m = bw.get('polls') or next(iter(bw.values()), None)
    paths = ('board_sdram_to_host', 'host_write_sdram', 'host_read_ram')
    if not m or not all(p in m for p in paths):
        return not_run(name, paper, 'the stream and the copies not measured')
    board, write, read = (m[p] for p in paths)
    return Claim(name, paper, f'board {board:.0f} MiB/s; host writes into '
                 f'SDRAM {write:.0f}, reads host RAM {read:.0f}',
                 'PASS' if board < min(write, read) else 'FAIL',
                 f'the board {board / min(write, read):.2f}x the slower host copy')


def claims(lat, thr, spot=None, stages=None, costs=None, pp=None, cpu=None,
           bw=None, wk=None, vm_spot=None):
    """The paper's claims: first with VMs as the guests (the targets, the
    primary result), then with namespaces (the contrast), then the
    board's own."""
    vms, ns = GUESTS['vms'], GUESTS['namespaces']
    return [
        claim_latency_n1(lat, vms, target=0.5),
        claim_n16(lat, thr, vms),
        claim_throughput(thr, vms, n_min=1),
        claim_identifier_step(lat, vms),
        claim_vm_wakeups(wk or {}, vms),
        claim_dom0(lat, vms),
        claim_identifier_width(vm_spot or {}, 'VMs'),
        claim_latency_n1(lat, ns),
        claim_throughput(thr, ns),
        claim_identifier_step(lat, ns),
        claim_dom0(lat, ns),
        claim_identifier_width(spot or {}),
        claim_wakeups(wk or {}),
        claim_stages(stages or {}),
        claim_host_costs(costs or {}),
        claim_core_to_core(pp or {}),
        claim_polling_beats_irq(pp or {}),
        claim_sleeping_board(pp or {}, cpu or {}),
        claim_pci_asymmetry(bw or {}),
        claim_board_bottleneck(bw or {}),
    ]


def plot_lines(points, ylabel, title, path, dotted=DOTTED):
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
        # the VMs solid, the namespaces (the contrast) dashed
        ax.plot(ns, [by_n[n] for n in ns], marker='s' if is_vm(setup) else
                'o', linestyle='-' if is_vm(setup) else '--',
                alpha=1 if is_vm(setup) else 0.6, label=setup_label(setup))
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


def profile_sets(rows, lat):
    """[(guests, n, setups)] for Fig. 6: each set of guests at its largest
    n measured on VIFs, with its setups that have flows there."""
    out = []
    for g in GUESTS.values():
        n = max((n for s in (g['sv'], g['msix']) for n in lat.get(s, {})),
                default=None)
        setups = [s for s in (g['sv'], g['msix'], g['bridged'])
                  if n and len(flow_medians(rows, s, n)) > 1]
        if setups:
            out.append((g, n, setups))
    return out


def plot_profile(rows, sets, path):
    """Fig. 6: the distribution of the flows' median RTTs at n guests,
    identifier against MSI-X (and the bridge for reference), a panel for
    each set of guests of profile_sets()."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 4.2),
                             squeeze=False)
    short = {'sv': 'VIFs,\nidentifier', 'msix': 'VIFs,\nMSI-X',
             'bridged': 'bridge'}
    for ax, (g, n, setups) in zip(axes[0], sets):
        ax.boxplot([flow_medians(rows, s, n) for s in setups])
        ax.set_xticks(range(1, len(setups) + 1))
        ax.set_xticklabels([short[k] for k in short for s in setups
                            if g[k] == s])
        ax.set_title(f'{n} {g["label"]} a side', fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis='y', alpha=0.3)
    axes[0][0].set_ylabel('median RTT of each flow (ms)')
    fig.suptitle('Fig. 6: latency profile of concurrent guests')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def profile_table(rows, sets):
    lines = ['| setup | flows | min | quartile 1 | median | quartile 3 | '
             'max |', '|---|---|---|---|---|---|---|']
    for _, n, setups in sets:
        for s in setups:
            med = sorted(flow_medians(rows, s, n))
            q1, q2, q3 = statistics.quantiles(med, n=4)
            lines.append(f'| {setup_label(s)} | {len(med)} | {med[0]:.2f} | '
                         f'{q1:.2f} | {q2:.2f} | {q3:.2f} | {med[-1]:.2f} |')
    return '\n'.join(lines) + '\n\n(ms; each flow\'s median over its probes)'


def plot_stages(stages, path):
    """Fig. 4 (a) egress and (b) ingress: us per frame of each stage,
    a bar per VIF count."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, (side, names) in zip(axes, FIG4_STAGES.items()):
        ns = sorted({n for st, _ in names for n in stages[side][st]})
        width = 0.8 / max(len(ns), 1)
        for i, n in enumerate(ns):
            ax.bar([k + i * width for k in range(len(names))],
                   [stages[side][st].get(n, 0) for st, _ in names], width,
                   label=f'{n} VIF(s)')
        ax.set_xticks([k + width * (len(ns) - 1) / 2
                       for k in range(len(names))])
        ax.set_xticklabels([label for _, label in names])
        ax.set_title(f'({"ab"[side == "ingress"]}) {side}')
        ax.grid(axis='y', alpha=0.3)
    axes[0].set_ylabel('us per frame (board clock)')
    axes[1].legend(fontsize=8)
    fig.suptitle('Fig. 4: micro-engine stage costs')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stages_table(stages):
    ns = sorted({n for p in stages.values() for v in p.values() for n in v})
    head = '| path | stage | ' + ' | '.join(f'{n} VIF(s)' for n in ns) + ' |'
    rows = [head, '|' + '---|' * (len(ns) + 2)]
    for path, names in FIG4_STAGES.items():
        for st, label in names:
            cells = [f'{stages[path][st][n]:.2f}' if n in stages[path][st]
                     else '-' for n in ns]
            rows.append(f'| {path} | {label} | ' + ' | '.join(cells) + ' |')
    return 'us per frame, median over rounds\n\n' + '\n'.join(rows)


def width_keys(spot):
    return sorted(w for w in spot if w != 'msix') + \
        (['msix'] if 'msix' in spot else [])


def plot_identifier(spots, path):
    """Fig. 7: boxplots of the last-spot guest's RTT per identifier width,
    a panel for each set of guests measured ({label: spot})."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(spots), figsize=(5 * len(spots), 4.2),
                             squeeze=False)
    for ax, (label, spot) in zip(axes[0], spots.items()):
        keys = width_keys(spot)
        ax.boxplot([spot[k] for k in keys], showfliers=False)
        ax.set_xticks(range(1, len(keys) + 1))
        ax.set_xticklabels([str(k) if k != 'msix' else 'MSI-X'
                            for k in keys])
        ax.set_xlabel(f'identifier bits shared by 8 {label}')
        ax.set_title(label, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis='y', alpha=0.3)
    axes[0][0].set_ylabel('RTT of the last-spot guest (ms)')
    fig.suptitle('Fig. 7: interrupt identifier width')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def identifier_table(spots):
    lines = ['| guests | identifier | VIFs on its bit | probes | quartile 1 | '
             'median | quartile 3 |', '|---|---|---|---|---|---|---|']
    for label, spot in spots.items():
        for k in width_keys(spot):
            v = sorted(spot[k])
            q1, q2, q3 = statistics.quantiles(v, n=4) if len(v) > 1 \
                else (v * 3)
            name = 'MSI-X' if k == 'msix' else f'{k} bit(s)'
            share = '1 (a vector)' if k == 'msix' else str(len(sharers(k)))
            lines.append(f'| {label} | {name} | {share} | {len(v)} | '
                         f'{q1:.2f} | {q2:.2f} | {q3:.2f} |')
    return '\n'.join(lines) + '\n\n(ms; VIF 7, polled last of its bit)'


def boot_points(rows):
    """{setup: {n: seconds}}: the median over rounds of the time to grow
    both hosts' L2 VMs to n a side (from the n before)."""
    per = defaultdict(list)
    for r in rows:
        per[(r['setup'], int(r['n']))].append(float(r['seconds']))
    out = defaultdict(dict)
    for (setup, n), v in sorted(per.items()):
        out[setup][n] = statistics.median(v)
    return dict(out)


def table(points, unit, fmt):
    ns = sorted({n for by_n in points.values() for n in by_n})
    lines = ['| setup | ' + ' | '.join(f'n={n}' for n in ns) + ' |',
             '|---|' + '---|' * len(ns)]
    for setup, by_n in sorted(points.items()):
        cells = [fmt.format(by_n[n]) if n in by_n else '-' for n in ns]
        lines.append(f'| {setup_label(setup)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + f'\n\n({unit})'


def plot_pingpong(boxes, path):
    """Fig. 9: boxplots of the round trips, CPU-CPU and CPU-board."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    shown = [(k, label) for k, label in PINGPONGS if k in boxes]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.bxp([dict(boxes[k], label=label) for k, label in shown],
           showfliers=False)
    ax.tick_params(axis='x', labelsize=8)
    ax.set_yscale('log')
    ax.set_ylabel('round trip (us, log scale; whiskers 5-95%)')
    ax.set_title('Fig. 9: ping-pong of a 32-bit word (board polling)')
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_board_polling(pp, cpu, path):
    """Fig. 10: (a) the CPU-board round trip and (b) the CPU the board's
    engine threads used while it ran, for each board policy, the host
    polling or taking the MSI."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    boards = [b for b in BOARD_POLICIES
              if any((b, 'cpu-board', h) in pp for h in ('poll', 'irq'))]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for i, host in enumerate(('poll', 'irq')):
        keys = [(b, 'cpu-board', host) for b in boards]
        xs = [k + i * 0.4 for k in range(len(boards))]
        label = 'host polls' if host == 'poll' else 'host takes the MSI'
        axes[0].bar(xs, [pp.get(k, 0) for k in keys], 0.4, label=label)
        axes[1].bar(xs, [100 * cpu.get(k, {}).get('engines_share', 0)
                         for k in keys], 0.4, label=label)
    for ax, ylabel, title in ((axes[0], 'round trip (us, median)', '(a) latency'),
                              (axes[1], "board's engine threads: % of a core",
                               '(b) board CPU')):
        ax.set_xticks([k + 0.2 for k in range(len(boards))])
        ax.set_xticklabels([BOARD_POLICIES[b].replace(' until', '\nuntil')
                            .replace(' runs', '\nruns') for b in boards],
                           fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(axis='y', alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle('Fig. 10: the board polling against sleeping until the doorbell')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pingpong_table(pp, cpu):
    lines = ['| board | pair | host | round trip (us) | board CPU per round '
             'trip (us) | board CPU (share of a core) | doorbells per round '
             'trip | signals per round trip |', '|---|---|---|---|---|---|---|---|']
    order = list(BOARD_POLICIES)
    for key in sorted(pp, key=lambda k: (order.index(k[0]), k[1:])):
        board, pair, host = key
        c = cpu.get(key, {})
        board_cells = ('-', '-', '-', '-') if pair == 'cpu-cpu' else (
            f'{c.get("engines_us", 0):.2f}', f'{c.get("engines_share", 0):.0%}',
            f'{c.get("doorbells", 0):.2f}', f'{c.get("signals", 0):.2f}')
        lines.append(f'| {BOARD_POLICIES[board]} | {pair} | {host} | '
                     f'{pp[key]:.1f} | ' + ' | '.join(board_cells) + ' |')
    return '\n'.join(lines) + '\n\n(medians over rounds)'


def plot_bandwidth(bw, path):
    """Fig. 5: MiB/s of 1500-byte copies, a bar per path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    m = bw.get('polls') or next(iter(bw.values()))
    paths = [p for p in FIG5_PATHS if p in m]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.bar(range(len(paths)), [m[p] for p in paths], 0.6)
    ax.set_xticks(range(len(paths)))
    ax.set_xticklabels([FIG5_PATHS[p] for p in paths], fontsize=8)
    ax.set_ylabel('MiB/s, 1500 bytes at a time')
    ax.set_title('Fig. 5: host and board copies across the board\'s BAR')
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def bandwidth_table(bw):
    boards = [b for b in BOARD_POLICIES if b in bw] + \
        [b for b in bw if b not in BOARD_POLICIES]
    lines = ['| path | ' + ' | '.join(BOARD_POLICIES.get(b, b) for b in boards)
             + ' |', '|---|' + '---|' * len(boards)]
    for p, label in FIG5_PATHS.items():
        cells = [f'{bw[b][p]:.0f}' if p in bw[b] else '-' for b in boards]
        lines.append(f'| {label.replace(chr(10), " ")} | ' + ' | '.join(cells)
                     + ' |')
    return '\n'.join(lines) + '\n\n(MiB/s, median over rounds)'


def thread_points(rows):
    """{setup: {n: {role: cores}}}, the median over rounds; roles in the
    order the CSV gives them."""
    cores = defaultdict(list)
    for r in rows:
        cores[(r['setup'], int(r['n']), r['role'])].append(float(r['cores']))
    points = defaultdict(lambda: defaultdict(dict))
    for (setup, n, role), v in cores.items():
        points[setup][n][role] = statistics.median(v)
    return points


def threads_table(points, thr):
    """Markdown: each Fig. 3 point's host cores by QEMU thread, and the
    busy ones (all but 'waiting') per Gbit/s of its aggregate."""
    roles = list(dict.fromkeys(role for by_n in points.values()
                               for p in by_n.values() for role in p))
    lines = ['| setup | n | Mbit/s | ' + ' | '.join(roles) +
             ' | busy cores per Gbit/s |',
             '|---|---|---|' + '---|' * (len(roles) + 1)]
    for setup in sorted(points):
        for n in sorted(points[setup]):
            p = points[setup][n]
            mbps = thr.get(setup, {}).get(n)
            busy = sum(c for r, c in p.items() if r != 'waiting')
            cells = [f'{mbps:.0f}' if mbps else '-'] + \
                [f'{p.get(r, 0):.2f}' for r in roles] + \
                [f'{busy / (mbps / 1000):.2f}' if mbps else '-']
            lines.append(f'| {setup_label(setup)} | {n} | ' +
                         ' | '.join(cells) + ' |')
    return '\n'.join(lines)


THREADS_NOTE = """Host cores while the n flows ran, from the schedstat of
each QEMU thread (debug-threads names them): the sending and the receiving
guest's vCPU (all n clients or servers run on it), the boards' engines, the
rest of both QEMUs (main loops, the netdev), and the time their threads
were runnable but had no core; median over rounds.  A vCPU near 1.00
bounds its guest; "waiting" near or above 1 means the host's two cores are
the bound.
"""


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


FIG4_NOTE = """The board's own clock (stage-timing=on: the host's monotonic clock
read around each stage an engine runs, summed per engine): egress on the
sending board, from the descriptor taken to the frame switched; ingress on
the receiving board, from the port's queue to the frame in the VIF's ring
and its signal.  An engine finds new descriptors by a doorbell, not by
polling SDRAM, so the paper's polling contention has no counterpart here;
wire-tx (QEMU's offloads, the netdev) is in the CSV, not in the figure, as
the paper leaves network I/O out.
"""

COSTS_NOTE = """The guest driver's own clock (module parameter cost_stats,
ethtool -S host_*): message send is ndo_start_xmit (the frame and its
descriptor written into the board's SDRAM, the doorbell if the board
sleeps), on the sending guest; message receive the copy of a frame out of
the receive ring into an skb, on the receiving guest; interrupt
virtualization the master handler (identifier read, clear, and the
dispatch to every VIF of a set bit) or, with MSI-X, a VIF's own vector
handler, on the receiving guest.
"""

WAKEUPS_NOTE = """VMs: from the boots of Figs. 2 and 3, n L2 VMs a side
on VIFs of their own, each moving one TCP flow, over each point the L2
drivers' ethtool -S counters; the L1 driver forwards a set identifier bit
to every mdev on it, so a wake-up in vain is an L2 VM's vCPU run for
nothing, as a domain schedule was in the paper.  Namespaces: from the
Fig. 4 boots, n VIFs a side in one kernel, each moving one TCP flow.  For
both, over each point the VIFs' ethtool -S counters: a wake-up in
vain is a poll that found nothing or a signal while the VIF was already
being polled (redundant_polls), a useful one a poll that found work (polls
- empty_polls).  The theory is the paper's worst case, where the other
VIFs on a set bit have nothing; with every VIF busy some of them do.
"""

MAILBOX_NOTE = """The board used from user space, as a VM's QEMU
would (tests/guest/selfvirt-vfio.c): two VIFs handed out as mdevs, the
first's send queue (the board's SDRAM, mapped straight into the process)
the board's mailbox, the second's receive queue (host memory, read-only)
the CPU's.  A round trip: the word written with its descriptor and
tx_prod into the SDRAM, the board's egress engine takes it and switches it
to the second VIF, its ingress engine writes it up into host memory; the
CPU spins on rx_prod (poll) or sleeps on the mdev's MSI eventfd (IRQ).  The
board polls its SDRAM (poll-us=1000: its engines spin for 1 ms after their
last frame), sleeps until the doorbell (poll-us=0: the CPU sees
EGRESS_ASLEEP and writes the board's doorbell page, mapped into the
process, an exit to QEMU), or, the device's default, the doorbell's vCPU runs
the sleeping engine's turn itself (inline-wake-us).  The CPU-CPU reference
is two threads on the guest's two vCPUs (tests/guest/cpu-pingpong.c): a
word through memory both ways, or one way woken by FUTEX_WAKE, an
inter-processor interrupt.  The board's CPU is its engine threads'
(schedstat of the svme* threads of QEMU), per round trip and as a share
of one core while the round trips ran.
"""

FIG5_NOTE = """1500-byte memcpy()s in a user process through the mdev's
mapping of the board's SDRAM BAR (a 1 MiB range, written once before the
clock starts), against the same copies in the process's own memory; and
the board's own path, 1500-byte frames from one VIF's SDRAM send queue to
another VIF's receive queue in host memory (the egress engine's copy out
of SDRAM, the ingress engine's write through the window), every frame's
sequence number checked.  The SDRAM BAR is RAM to TCG: a host read of it
is a memory read, with no PCI read round trip, so the paper's asymmetry
cannot appear.
"""

EMULATION = """## What the emulation changes

- The paper's guests are Xen domUs and its baseline bridges in dom0, a
  domain of its own that must be scheduled for every frame; that scheduling
  is what self-virtualization saves.  The VM setups are that shape: each
  guest an L2 VM (KVM in L1, on TCG's emulated SVM) on an mdev VIF, or
  behind its L1's bridge with virtio-net served by vhost-net in L1's
  kernel (the paper's netback).  Every L2 exit is emulated by TCG, so an
  exit costs tens of microseconds, not the paper's one.  In the namespace
  setups, the contrast, a guest is a network namespace of one Linux guest
  and the bridge runs in the same kernel, a function call away: the
  baseline pays no domain switch, so the paper's margin cannot appear
  there.
- All the L2 VMs of a host share their L1's one vCPU (and the two L1s
  the machine's two cores): at large n the figures measure that CPU as
  much as the NIC.
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
- The paper's power-efficient polling is MWAIT: the core sleeps in
  hardware until the mailbox's cache line is written.  The board here
  sleeps on a futex and the host wakes it with a doorbell, a register
  write that traps into the management driver and then into QEMU: a
  software wake-up, tens of microseconds, where MWAIT's was a fraction
  of one (Fig. 10).
- A host read of the board's SDRAM is a plain memory read under TCG
  (Fig. 5): no PCI read latency, so reads are as fast as writes.
"""


def load(out_dir):
    """Every figure's points from out_dir's CSVs, those that are there."""
    d = types.SimpleNamespace()
    d.lat_rows = read_csv(os.path.join(out_dir, 'fig2_latency.csv'))
    d.thr_rows = read_csv(os.path.join(out_dir, 'fig3_throughput.csv'))
    d.host_rows = read_optional(out_dir, 'host.csv')
    d.lat, d.thr = latency_points(d.lat_rows), throughput_points(d.thr_rows)
    ident_rows = read_optional(out_dir, 'fig7_identifier.csv')
    d.spot, d.vm_spot = last_spot(ident_rows), last_spot(ident_rows, 'vms')
    d.spots = {k: v for k, v in (('VMs', d.vm_spot), ('namespaces', d.spot))
               if v}
    d.boots = boot_points(read_optional(out_dir, 'vm_boot.csv'))
    d.stages = stage_points(read_optional(out_dir, 'fig4_stages.csv'))
    d.costs = cost_points(read_optional(out_dir, 'host_costs.csv'))
    d.pp_rows = read_optional(out_dir, 'fig9_pingpong.csv')
    d.pp, d.boxes = pingpong_points(d.pp_rows), pingpong_boxes(d.pp_rows)
    d.cpu = board_cpu_points(read_optional(out_dir, 'fig10_board_cpu.csv'))
    d.bw = bandwidth_points(read_optional(out_dir, 'fig5_bandwidth.csv'))
    d.wk = wakeup_points(read_optional(out_dir, 'wakeups.csv'))
    d.threads = thread_points(read_optional(out_dir, 'fig3_cpu.csv'))
    d.has_stages = any(v for p in d.stages.values() for v in p.values())
    d.has_costs = any(v for m in d.costs.values() for v in m.values())
    d.profiles = profile_sets(d.lat_rows, d.lat)
    d.rounds = len({r['round'] for r in d.lat_rows + d.pp_rows})
    d.claims = claims(d.lat, d.thr, d.spot, d.stages, d.costs, d.pp, d.cpu,
                      d.bw, d.wk, d.vm_spot)
    return d


def run_line(d):
    """The rounds and the host's load over the points."""
    return f'{d.rounds} round(s); {host_load(d.host_rows)}.'


def claims_table(claims):
    """Markdown: the @claims, ours against the paper's."""
    return ('| claim | paper | ours | verdict | margin |\n'
            '|---|---|---|---|---|\n' + '\n'.join(c.row() for c in claims))


def claims_run_table(d):
    """The claims this run measured, and how many it did not."""
    run = [c for c in d.claims if c.verdict != 'NOT RUN']
    rest = len(d.claims) - len(run)
    return claims_table(run) + (
        f'\n\n{rest} claim(s) of the report not run here.' if rest else '')


# The tables of report.md by name, each None when its figure was not run
# (scripts/bench-table.py puts them in the docs from stored results; the
# claims there without those not run)
VIEWS = {
    'claims': claims_run_table,
    'fig2': lambda d: d.lat and table(d.lat, 'ms', '{:.3f}'),
    'fig3': lambda d: d.thr and table(d.thr, 'Mbit/s, sum of the n flows',
                                      '{:.0f}'),
    'boots': lambda d: d.boots and table(
        d.boots, 'seconds to boot both hosts\' L2 VMs from the n before to '
        'n a side, at once, and bring their interfaces up; median over '
        'rounds', '{:.0f}'),
    'threads': lambda d: d.threads and threads_table(d.threads, d.thr),
    'fig4': lambda d: d.has_stages and stages_table(d.stages),
    'costs': lambda d: d.has_costs and costs_table(d.costs),
    'wakeups': lambda d: d.wk and wakeups_table(d.wk),
    'fig6': lambda d: d.profiles and profile_table(d.lat_rows, d.profiles),
    'fig7': lambda d: d.spots and identifier_table(d.spots),
    'fig5': lambda d: d.bw and bandwidth_table(d.bw),
    'fig9': lambda d: d.boxes and pingpong_table(d.pp, d.cpu),
}


def view(d, name):
    """The table @name of VIEWS for the loaded results @d, or None."""
    return VIEWS[name](d) or None


def plot(d, out_dir):
    """Every figure that has points, as PNGs in out_dir."""
    if d.lat:
        plot_lines(d.lat, 'RTT (ms): mean over flows of each flow\'s median',
                   'Fig. 2: latency (psapp, 64-byte raw probes)',
                   os.path.join(out_dir, 'fig2_latency.png'))
    if d.thr:
        plot_lines(d.thr, 'aggregate TCP (Mbit/s)',
                   'Fig. 3: aggregate TCP throughput (iperf3)',
                   os.path.join(out_dir, 'fig3_throughput.png'))
    if d.wk:
        plot_wakeups(d.wk, os.path.join(out_dir, 'wakeups.png'))
    if d.bw:
        plot_bandwidth(d.bw, os.path.join(out_dir, 'fig5_bandwidth.png'))
    if d.boxes:
        plot_pingpong(d.boxes, os.path.join(out_dir, 'fig9_pingpong.png'))
        plot_board_polling(d.pp, d.cpu,
                           os.path.join(out_dir, 'fig10_board_polling.png'))
    if d.has_stages:
        plot_stages(d.stages, os.path.join(out_dir, 'fig4_stages.png'))
    if d.spots:
        plot_identifier(d.spots, os.path.join(out_dir, 'fig7_identifier.png'))
    if d.profiles:
        plot_profile(d.lat_rows, d.profiles,
                     os.path.join(out_dir, 'fig6_profile.png'))


# report.md's sections after the claims: title, view, its figures as (alt
# text, PNG), note
SECTIONS = (
    ('## Fig. 2: latency', 'fig2', [('Fig. 2', 'fig2_latency.png')], ''),
    ('## Fig. 3: throughput', 'fig3', [('Fig. 3', 'fig3_throughput.png')],
     ''),
    ('### Bringing the L2 VMs up', 'boots', [], ''),
    ('### Fig. 3: host cores by QEMU thread', 'threads', [], THREADS_NOTE),
    ('## Fig. 4: micro-engine stage costs', 'fig4',
     [('Fig. 4', 'fig4_stages.png')], FIG4_NOTE),
    ('## Host costs (section 4.3.1)', 'costs', [], COSTS_NOTE),
    ('## Redundant wake-ups', 'wakeups', [('wake-ups', 'wakeups.png')],
     WAKEUPS_NOTE),
    ('## Fig. 6: latency profile at the largest n', 'fig6',
     [('Fig. 6', 'fig6_profile.png')], ''),
    ('## Fig. 7: identifier width, 8 guests', 'fig7',
     [('Fig. 7', 'fig7_identifier.png')], ''),
    ('## Fig. 5: copies across the BAR, 1500 bytes at a time', 'fig5',
     [('Fig. 5', 'fig5_bandwidth.png')], FIG5_NOTE),
    ('## Figs. 9 and 10: the mailbox ping-pong', 'fig9',
     [('Fig. 9', 'fig9_pingpong.png'), ('Fig. 10', 'fig10_board_polling.png')],
     MAILBOX_NOTE),
)


def report(out_dir, meta=''):
    """Analyse out_dir's CSVs: write the figures and report.md; return the
    claims."""
    d = load(out_dir)
    plot(d, out_dir)
    with open(os.path.join(out_dir, 'report.md'), 'w') as f:
        f.write('# selfvirt: the paper\'s evaluation under emulation\n\n')
        if meta:
            f.write(meta.rstrip() + '\n\n')
        f.write(f'{run_line(d)}\n\n## Claims\n\n{claims_table(d.claims)}\n\n')
        for title, name, figures, note in SECTIONS:
            text = view(d, name)
            if not text:
                continue
            f.write(f'{title}\n\n')
            for alt, png in figures:
                f.write(f'![{alt}]({png})\n\n')
            f.write(text + '\n\n' + (note + '\n' if note else ''))
        f.write(EMULATION)
    return d.claims
