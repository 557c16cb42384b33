"""scripts/check-layers.py: the device's layers call only downwards."""

import os

from load_script import TOP, load_script

check_layers = load_script('check-layers')


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return str(tmp_path)


def func(name, body='', static=False):
    return (('static ' if static else '') + f'void {name}(SelfvirtState *s)\n'
            '{\n' + body + '}\n\n')


def test_the_device_as_it_is_passes():
    assert check_layers.check(os.path.join(TOP, 'hw/net/selfvirt')) == []


def test_a_call_up_or_across_a_layer_fails_and_down_passes(tmp_path):
    d = write(tmp_path, {
        'selfvirt_frame.c': func('selfvirt_frame_new'),
        'selfvirt_engines.c': func('selfvirt_engines_init',
                                   '    selfvirt_frame_new(s);\n') +
                              func('selfvirt_engines_bad',
                                   '    selfvirt_egress_go(s);\n'),
        'selfvirt_egress.c': func('selfvirt_egress_go',
                                  '    selfvirt_port_go(s);\n'),
        'selfvirt_port.c': func('selfvirt_port_go'),
    })
    found = check_layers.check(d)
    assert len(found) == 2, found
    assert 'selfvirt_engines.c: uses selfvirt_egress_go() of ' \
           'selfvirt_egress.c' in found[0] + found[1]
    assert 'selfvirt_egress.c: uses selfvirt_port_go() of ' \
           'selfvirt_port.c' in found[0] + found[1]


def test_a_function_pointer_counts_and_comments_and_statics_do_not(tmp_path):
    d = write(tmp_path, {
        'selfvirt_engines.c': '/* selfvirt_mbox_go() runs later */\n' +
                              func('selfvirt_engines_x',
                                   '    fn = selfvirt_port_go;\n'),
        'selfvirt_port.c': func('selfvirt_port_go'),
        'selfvirt_mbox.c': func('selfvirt_mbox_go') +
                           func('selfvirt_engines_x_twin', static=True),
    })
    found = check_layers.check(d)
    assert len(found) == 1 and 'uses selfvirt_port_go()' in found[0], found


def test_a_file_in_no_layer_and_a_foreign_header_fail(tmp_path):
    d = write(tmp_path, {
        'selfvirt_new_part.c': func('selfvirt_new_part_go'),
        'selfvirt_window.c': '#include "selfvirt.h"\n'
                             '#include "selfvirt_private.h"\n',
    })
    found = check_layers.check(d)
    assert any('selfvirt_new_part.c: in no layer' in f for f in found)
    assert any('includes selfvirt_private.h' in f for f in found)
    assert check_layers.main([d]) == 1
