"""The experiment kit's analysis on a small recorded sample, so that the
kit cannot rot between full runs (make experiments)."""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.join(HERE, '..', 'experiments')
sys.path.insert(0, KIT)

import analysis     # noqa: E402


def rows(setup, n, rnd, flow, rtts_ms):
    return [{'round': str(rnd), 'setup': setup, 'n': str(n),
             'flow': str(flow), 'rtt_us': str(ms * 1000)} for ms in rtts_ms]


def test_latency_is_the_mean_of_flow_medians_then_the_median_of_rounds():
    data = (rows('sv', 2, 1, 0, [1, 2, 100]) +     # median 2
            rows('sv', 2, 1, 1, [4, 4, 4]) +       # median 4: round 1 -> 3
            rows('sv', 2, 2, 0, [5, 5]) +
            rows('sv', 2, 2, 1, [7]) +             # round 2 -> 6
            rows('sv', 2, 3, 0, [9]) +
            rows('sv', 2, 3, 1, [9]))              # round 3 -> 9
    assert analysis.latency_points(data) == {'sv': {2: 6.0}}


def test_throughput_is_the_sum_of_flows_then_the_median_of_rounds():
    data = [{'round': r, 'setup': 'bridged', 'n': '2', 'flow': f,
             'mbps': v} for r, f, v in [('1', '0', '10'), ('1', '1', '20'),
                                        ('2', '0', '50'), ('2', '1', '50'),
                                        ('3', '0', '1'), ('3', '1', '1')]]
    assert analysis.throughput_points(data) == {'bridged': {2: 30.0}}


def test_claims_pass_fail_and_not_run():
    lat = {'sv': {1: 1.0, 16: 2.0, 32: 3.0}, 'bridged': {1: 2.0},
           'sv-msix': {16: 2.0, 32: 2.1}, 'dom0': {1: 1.1}}
    thr = {'sv': {1: 100, 2: 150, 16: 188}, 'bridged': {1: 90, 2: 160,
                                                        16: 100}}
    got = {c.name: c for c in analysis.claims(lat, thr)}
    n1 = got['self-virtualized latency below bridged at n = 1']
    assert n1.verdict == 'PASS' and '50% lower' in n1.ours
    tcp = got['TCP above bridged for every n >= 2; the ratio at n = 16']
    assert tcp.verdict == 'FAIL' and 'n = 2' in tcp.margin   # 150 < 160
    assert '+88%' in tcp.ours                                 # 188 / 100
    step = [c for c in got.values() if c.name.startswith('latency at 32')][0]
    assert step.verdict == 'PASS'
    lat_same = dict(lat, **{'sv-msix': {16: 2.0, 32: 2.9}})   # x1.45: no fix
    step = [c for c in analysis.claims(lat_same, thr)
            if c.name.startswith('latency at 32')][0]
    assert step.verdict == 'FAIL'
    dom0 = [c for c in got.values() if c.name.startswith('one VIF')][0]
    assert dom0.verdict == 'PASS'
    assert sum(c.verdict == 'NOT RUN' for c in got.values()) == 3   # 4, 4.3.1, 7
    assert analysis.claims({}, {})[0].verdict == 'NOT RUN'
    spot = {1: [9.0, 11.0], 8: [3.0, 5.0], 'msix': [2.0]}
    width = analysis.claims(lat, thr, spot)[-1]
    assert width.verdict == 'PASS' and '-60%' in width.margin
    assert analysis.claims(lat, thr, {8: [9.0], 1: [3.0]})[-1].verdict == \
        'FAIL'


def stage_rows(rnd, n, board, stage, frames, ns):
    return {'round': str(rnd), 'n': str(n), 'board': board, 'stage': stage,
            'frames': str(frames), 'ns': str(ns)}


def test_stage_costs_per_frame_from_the_right_board():
    data = [stage_rows(1, 1, 'left', 'egress-msg-recv', 10, 20000),   # 2 us
            stage_rows(2, 1, 'left', 'egress-msg-recv', 10, 40000),   # 4 us
            stage_rows(3, 1, 'left', 'egress-msg-recv', 10, 30000),   # 3 us
            stage_rows(1, 1, 'right', 'egress-msg-recv', 5, 99000),   # ACKs
            stage_rows(1, 1, 'left', 'ingress-demux', 5, 99000),
            stage_rows(1, 1, 'right', 'ingress-demux', 4, 2000),      # 0.5
            stage_rows(1, 8, 'right', 'ingress-demux', 0, 0)]         # idle
    got = analysis.stage_points(data)
    assert got['egress']['egress-msg-recv'] == {1: 3.0}
    assert got['ingress']['ingress-demux'] == {1: 0.5}


def test_stage_claim():
    def stages(e1, e32, i1, i32):
        return {'egress': {'egress-msg-recv': {1: e1, 32: e32},
                           'egress-pkt-tx': {1: 0, 32: 0}},
                'ingress': {'ingress-pkt-rx': {1: i1, 32: i32},
                            'ingress-demux': {1: 0, 32: 0},
                            'ingress-msg-send': {1: 0, 32: 0}}}
    claim = analysis.claim_stages(stages(1.0, 1.5, 2.0, 2.2))
    assert claim.verdict == 'PASS' and '+50%' in claim.margin
    assert analysis.claim_stages(stages(1.0, 1.0, 2.0, 2.2)).verdict == 'FAIL'
    assert analysis.claim_stages(stages(1.0, 2.0, 2.0, 4.0)).verdict == 'FAIL'
    assert analysis.claim_stages({}).verdict == 'NOT RUN'


def test_host_costs_per_event_from_the_paying_host():
    def row(mode, n, board, metric, events, ns):
        return {'round': '1', 'mode': mode, 'n': str(n), 'board': board,
                'metric': metric, 'events': str(events), 'ns': str(ns)}
    data = [row('identifier', 1, 'left', 'host_send', 10, 50000),
            row('identifier', 1, 'right', 'host_send', 10, 1),       # ACKs
            row('identifier', 1, 'right', 'host_master_irq', 4, 8000),
            row('identifier', 1, 'right', 'host_vector_irq', 4, 99),
            row('msix', 1, 'right', 'host_vector_irq', 2, 3000)]
    got = analysis.cost_points(data)
    assert got['identifier']['message send'] == {1: 5.0}
    assert got['identifier']['interrupt virtualization'] == {1: 2.0}
    assert got['msix']['interrupt virtualization'] == {1: 1.5}
    costs = {'identifier': {'message send': {1: 14.0, 32: 15.0},
                            'message receive': {1: 9.0, 32: 9.5},
                            'interrupt virtualization': {1: 2.0, 32: 11.0}}}
    assert analysis.claim_host_costs(costs).verdict == 'PASS'
    costs['identifier']['interrupt virtualization'][32] = 2.1
    assert analysis.claim_host_costs(costs).verdict == 'FAIL'
    assert analysis.claim_host_costs({}).verdict == 'NOT RUN'


def test_identifier_sharing_follows_the_abi():
    # one bit: every signal of the 8 VIFs on it
    assert analysis.sharers(1) == list(range(8))
    # 16 bits: VIF 7 alone on bit 15
    assert analysis.sharers(16) == [7]
    # 8 bits: VIF 7's receive bit 15 % 8 = 7 is VIF 3's too (2 * 3 + 1)
    assert analysis.sharers(8) == [3, 7]


def test_report_from_the_recorded_sample(tmp_path):
    pytest.importorskip('matplotlib')
    for f in ('fig2_latency.csv', 'fig3_throughput.csv', 'fig7_identifier.csv',
              'fig4_stages.csv', 'host_costs.csv', 'host.csv'):
        shutil.copy(os.path.join(KIT, 'sample', f), tmp_path)
    results = analysis.report(str(tmp_path), 'sample run')
    assert len(results) == 7
    assert {c.verdict for c in results} <= {'PASS', 'FAIL', 'NOT RUN'}
    for png in ('fig2_latency.png', 'fig3_throughput.png', 'fig6_profile.png',
                'fig7_identifier.png', 'fig4_stages.png'):
        with open(tmp_path / png, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    text = (tmp_path / 'report.md').read_text()
    assert '| claim | paper | ours | verdict | margin |' in text
    assert 'host steal time' in text
    assert '## Fig. 6: latency profile at n = 32' in text
    assert '## Fig. 7: identifier width, 8 guests' in text
    assert '## Fig. 4: micro-engine stage costs' in text
    assert '| identifier | interrupt virtualization |' in text
    assert not [c for c in results if 'Fig. 4' in c.name and
                c.verdict == 'NOT RUN']
    assert not [c for c in results if c.name.startswith('latency falls') and
                c.verdict == 'NOT RUN']
    for setup in ('sv', 'sv-msix', 'bridged', 'dom0'):
        assert analysis.setup_label(setup) in text, setup
