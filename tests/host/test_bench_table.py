"""scripts/bench-table.py: the benchmark tables made from stored results,
and docs/benchmarks.md's tables, which must match theirs."""

import json
import os
import shutil
import sys

import pytest

from load_script import TOP, load_script

bench_table = load_script('bench-table')
sys.path.insert(0, os.path.join(TOP, 'tests', 'guest'))
import harness      # noqa: E402

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
    for doc in ('benchmarks.md', 'experiments.md'):
        assert bench_table.main(['--check',
                                 os.path.join(TOP, 'docs', doc)]) == 0


def test_the_kits_tables_from_its_csvs(tmp_path):
    out = tmp_path / 'kit'
    shutil.copytree(os.path.join(TOP, 'tests', 'experiments', 'sample'), out)
    (out / 'run.json').write_text(json.dumps({
        'command': 'tests/experiments/run.py --quick', 'commit': 'f00ba12',
        'started': '2026-12-05 19:00', 'ended': '2026-12-05 19:24'}))
    doc = tmp_path / 'doc.md'
    doc.write_text('<!-- bench-table kit claims -->\n<!-- end bench-table -->'
                   '\n<!-- bench-table kit fig3 -->\n<!-- end bench-table -->'
                   '\n')
    assert bench_table.main(['--update', str(doc)]) == 0
    text = doc.read_text()
    assert ('2026-12-05 19:00 to 2026-12-05 19:24, code of f00ba12, '
            '`tests/experiments/run.py --quick`; 1 round(s); host steal') \
        in text
    # a claim row, and Fig. 3's row of the VMs on VIFs: the same figures
    # as the kit's report.md
    assert '| VMs: latency on a VIF below bridged at n = 1 | about 50% ' \
        'lower | 3.448 ms vs 9.769 ms: 65% lower | PASS |' in text
    assert '| VMs on VIFs of their own (identifier) | ' in text
    assert bench_table.main(['--check', str(doc)]) == 0


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


LATENCY = {
    'bench': 'latency', 'command': 'tests/guest/latency_trace.py --count 30',
    'started': '2026-12-05 19:00', 'ended': '2026-12-05 19:03',
    'commit': '1234abc', 'steal_percent': 0.1, 'pings': 30,
    'irq_mode': 'identifier',
    'columns': {'inline-wake-us=0': {'A->B wire': 0.099, 'ping RTT': 1.787},
                'default': {'A->B wire': 0.1, 'B->A wire': 0.05,
                            'ping RTT': 1.432}},
}


def test_latency_a_row_per_hop_a_column_per_board():
    text = bench_table.table(LATENCY)
    assert 'code of 1234abc, 0.1% steal, 30 pings' in text
    lines = [line for line in text.splitlines() if line.startswith('| ')]
    assert lines[0] == '| hop | inline-wake-us=0 | default |'
    assert lines[1] == '| A->B wire | 0.099 | 0.100 |'
    assert lines[2] == '| ping RTT | 1.787 | 1.432 |'
    assert lines[3] == '| B->A wire | - | 0.050 |'


DEVICE = {
    'bench': 'device', 'command': 'make bench-device',
    'started': '2026-12-05 20:40', 'ended': '2026-12-05 20:44',
    'commit': '9abcdef', 'steal_percent': 0.0,
    'switch': [{'board': 'vifs=16,engines=4,inline-wake-us=0',
                'egress_engines': 1, 'frame_bytes': 64,
                'frames_per_s': 2275536, 'cpu_ns_qemu': 451,
                'cpu_ns_egress': 164, 'cpu_ns_ingress': 140},
               {'board': 'vifs=16,engines=6,inline-wake-us=0',
                'egress_engines': 3, 'frame_bytes': 1514,
                'frames_per_s': 2169285, 'cpu_ns_qemu': 623,
                'cpu_ns_egress': 353, 'cpu_ns_ingress': 206}],
    'repeats': 5, 'memcpy_ns_64': 17.46, 'memcpy_ns_1514': 72.91,
    'idle_core_percent': 0.128,
}


def test_device_rates_cpu_and_the_memcpy_peer():
    text = bench_table.table(DEVICE)
    assert 'code of 9abcdef, 0.0% steal' in text
    lines = [line for line in text.splitlines() if line.startswith('| ')]
    assert lines[1] == ('| `vifs=16,engines=4,inline-wake-us=0` | 64 | '
                        '2275536 | 2275536 | 1165 | 451 | 164 | 140 |')
    assert lines[2] == ('| `vifs=16,engines=6,inline-wake-us=0` | 1514 | '
                        '2169285 | 723095 | 26274 | 623 | 353 | 206 |')
    assert '64-byte frame into a 16 MiB working set: 17.5 ns' in text
    assert '1514-byte frame: 72.9 ns' in text
    assert 'used 0.13% of a core' in text


def test_a_broken_marker_or_table_name_is_an_error(tmp_path):
    shutil.copytree(os.path.join(TOP, 'tests', 'experiments', 'sample'),
                    tmp_path / 'kit')
    doc = tmp_path / 'doc.md'
    for text, message in (
            ('<!-- bench-table kit fig2 -->\nno end\n', 'without its'),
            ('<!-- bench-table kit fig-2 -->\n<!-- end bench-table -->\n',
             "no table 'fig-2'"),
            ('<!-- bench-table kit -->\n<!-- end bench-table -->\n',
             'needs a table name'),
            ('<!-- bench-table kit claims -->\n<!-- end bench-table -->\n',
             'run.json')):
        doc.write_text(text)
        with pytest.raises(SystemExit, match=message):
            bench_table.main(['--check', str(doc)])


def test_saved_results_carry_their_run_and_make_the_table(tmp_path,
                                                           monkeypatch):
    monkeypatch.setattr(sys, 'argv', [os.path.join(TOP, 'tests', 'guest',
                                                   'latency_trace.py'),
                                      '--board', '', '--count', '30'])
    path = tmp_path / 'r.json'
    figures = {k: v for k, v in LATENCY.items()
               if k in ('bench', 'pings', 'irq_mode', 'columns')}
    harness.save_results(path, ('2026-12-05 19:00', '1234abc'), 0.14,
                         **figures)
    saved = json.loads(path.read_text())
    assert saved['command'] == \
        "tests/guest/latency_trace.py --board '' --count 30"
    assert (saved['started'], saved['commit'], saved['steal_percent']) == \
        ('2026-12-05 19:00', '1234abc', 0.1)
    assert '| ping RTT | 1.787 | 1.432 |' in bench_table.table(saved)
    harness.save_results(path, ('2026-12-05 19:00', '1234abc'), None)
    assert 'steal_percent' not in json.loads(path.read_text())
