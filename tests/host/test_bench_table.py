"""scripts/bench-table.py: the benchmark tables made from stored results,
and docs/benchmarks.md's tables, which must match theirs."""

import json
import os

from load_script import TOP, load_script

bench_table = load_script('bench-table')

RESULTS = {
    'command': 'tests/guest/bench.py --runs 3 --models selfvirt,e1000',
    'started': '2026-12-05 06:45', 'ended': '2026-12-05 06:52',
    'commit': 'abc1234', 'steal_percent': 0.1, 'wire': 'tap', 'runs': 3,
    'seconds': 5,
    'models': {
        'e1000': {'mbps': [600, 620, 700], 'rtt_ms': [2.0, 2.4, 2.3],
                  'probe_us': [1900, 1950, 1800],
                  'cores_per_gbit': [3.0, 2.9, 2.5],
                  'threads': [dict.fromkeys(bench_table.ROLES, 0.5)] * 3},
        'selfvirt': {'mbps': [800, 850, 825], 'rtt_ms': [2.5, 2.4, 2.6],
                     'probe_us': [1600, 1700, 1650],
                     'cores_per_gbit': [2.1, 2.0, 2.2],
                     'threads': [dict.fromkeys(bench_table.ROLES, 0.8)] * 3},
    },
}


def test_medians_and_ratios():
    text = bench_table.table(RESULTS)
    assert 'code of abc1234, 0.1% steal' in text
    assert '`tests/guest/bench.py --runs 3 --models selfvirt,e1000`' in text
    lines = [line for line in text.splitlines() if line.startswith('| ')]
    # sorted by throughput; no virtio-net in the run: no ratio to it
    assert lines[1] == '| selfvirt | 825 | - | 2.50 | 1.09 | 1650 | 2.10 |'
    assert lines[2] == '| e1000 | 620 | - | 2.30 | 1.00 | 1900 | 2.90 |'
    assert lines[4].startswith('| selfvirt | 0.80 (0.97) |')


def test_a_stale_table_is_found_and_updated(tmp_path):
    (tmp_path / 'r.json').write_text(json.dumps(RESULTS))
    doc = tmp_path / 'doc.md'
    doc.write_text('# x\n<!-- bench-table r.json -->\nold figures\n'
                   '<!-- end bench-table -->\nafter\n')
    assert bench_table.main(['--check', str(doc)]) == 1
    assert bench_table.main(['--update', str(doc)]) == 0
    assert bench_table.main(['--check', str(doc)]) == 0
    text = doc.read_text()
    assert 'old figures' not in text and text.endswith('after\n')
    assert '| selfvirt | 825 |' in text


def test_the_docs_tables_match_their_results():
    assert bench_table.main(['--check',
                             os.path.join(TOP, 'docs', 'benchmarks.md')]) == 0


NESTED = {
    'bench': 'nested', 'command': 'tests/guest/bench_nested.py --vms 1,2',
    'started': '2026-12-05 17:00', 'ended': '2026-12-05 17:15',
    'commit': 'def5678', 'steal_percent': 0.0, 'runs': 3, 'seconds': 5,
    'setting': 'signal gap 0 us, TSO in L2 on',
    'points': [
        {'vms': 1, 'shape': 'direct', 'mbps': [400, 450, 440],
         'rtt_ms': [2.7, 2.8, 2.6], 'traps_per_l2_packet': [0.2, 0.3, 0.25],
         'traps_per_wire_frame': [0.01, 0.02, 0.01]},
        {'vms': 1, 'shape': 'bridged', 'mbps': [200, 220, 250],
         'rtt_ms': [5.6, 5.2, 5.4], 'traps_per_l2_packet': [None] * 3,
         'traps_per_wire_frame': [None] * 3},
        {'vms': 2, 'shape': 'direct', 'mbps': [300, 310, 320],
         'rtt_ms': [3.0, 3.0, 3.0], 'traps_per_l2_packet': [0.3, 0.3, 0.3],
         'traps_per_wire_frame': [0.02, 0.02, 0.02]},
        {'vms': 2, 'shape': 'bridged', 'mbps': [100, 100, 100],
         'rtt_ms': [6.0, 6.0, 6.0], 'traps_per_l2_packet': [None] * 3,
         'traps_per_wire_frame': [None] * 3},
    ],
}


def test_nested_direct_against_bridged():
    text = bench_table.table(NESTED)
    assert 'code of def5678, 0.0% steal' in text
    assert 'signal gap 0 us, TSO in L2 on' in text
    lines = [line for line in text.splitlines() if line.startswith('| ')]
    assert lines[1] == ('| 1 | 440.0 | 220.0 | 2.00x | 2.70 | 5.40 | 0.50x '
                        '| 0.250 | 0.010 |')
    assert lines[2] == ('| 2 | 310.0 | 100.0 | 3.10x | 3.00 | 6.00 | 0.50x '
                        '| 0.300 | 0.020 |')
