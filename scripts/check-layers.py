#!/usr/bin/python3
"""The device's layers call only downwards (make lint).

    scripts/check-layers.py [DIR]

DIR is hw/net/selfvirt.  Each .c file of the device sits in one layer of
LAYERS, bottom first.  A file may use (call, or take the address of) a
function of another file only if that file's layer is lower, and include
a project header only if the header's layer is not higher than its own.
selfvirt.h, which declares the board for every part, and its static
inline helpers sit below every layer.  Prints each violation and each
file without a layer; exits 1 if there is any.
"""
import pathlib
import re
import sys

# bottom first; docs/devel.md draws the same
LAYERS = [
    ('frames', ['selfvirt_frame.c']),
    ('frame logic', ['selfvirt_stage.c', 'selfvirt_coalesce.c']),
    ('scheduler', ['selfvirt_engines.c']),
    ('board parts', ['selfvirt_window.c', 'selfvirt_irq.c',
                     'selfvirt_switch.c']),
    ('VIF table', ['selfvirt_vif.c']),
    ('queues between roles', ['selfvirt_queues.c']),
    ('roles', ['selfvirt_port.c', 'selfvirt_egress.c',
               'selfvirt_ingress.c']),
    ('mailbox', ['selfvirt_mbox.c']),
    ('PCI device', ['selfvirt.c']),
]
# pure logic and the ABI, shared with the unit tests and the driver
HEADERS = {
    'selfvirt.h': -1, 'trace.h': -1, 'selfvirt_abi.h': -1,
    'selfvirt_rate.h': 0, 'selfvirt_tx_desc.h': 0,
    'selfvirt_window_xlate.h': 0, 'selfvirt_coalesce_rules.h': 0,
    'selfvirt_vnet_hdr.h': 0,
}

DEFINITION = re.compile(r'^(static )?[A-Za-z_][\w \t*]*?\b(selfvirt_\w+)\('
                        r'[^;{]*?\)\s*\n\{', re.M)
INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)


def layer_of():
    return {f: i for i, (_, files) in enumerate(LAYERS) for f in files}


def strip(text):
    """The code without comments and string literals."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def check(directory):
    layers = layer_of()
    sources = {p.name: p.read_text()
               for p in sorted(pathlib.Path(directory).glob('*.c'))}
    found = [f'{directory}/{name}: in no layer (scripts/check-layers.py)'
             for name in sources if name not in layers]
    owner = {}
    for name, text in sources.items():
        for m in DEFINITION.finditer(text):
            if not m.group(1):
                owner[m.group(2)] = name
    for name, text in sources.items():
        if name not in layers:
            continue
        mine = layers[name]
        code = strip(text)
        for func, other in sorted(owner.items()):
            if other == name or layers.get(other, -1) < mine:
                continue
            if re.search(r'\b' + func + r'\b', code):
                found.append(f'{directory}/{name}: uses {func}() of {other}, '
                             f'which is not in a lower layer '
                             f'({LAYERS[layers[other]][0]} over '
                             f'{LAYERS[mine][0]})')
        for header in INCLUDE.findall(text):
            if HEADERS.get(header, mine) > mine or \
                    (header not in HEADERS and header.startswith('selfvirt')):
                found.append(f'{directory}/{name}: includes {header}, which '
                             f'is not in a lower layer')
    return found


def main(argv):
    directory = argv[0] if argv else 'hw/net/selfvirt'
    found = check(directory)
    print('\n'.join(found), end='\n' if found else '')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
