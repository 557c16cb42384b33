"""scripts/check-sizes.py: the size limits of make lint."""

from load_script import load_script

check_sizes = load_script('check-sizes')


def c_function(name, body_lines, static=True):
    head = ('static ' if static else '') + f'int {name}(struct foo *f,\n' \
        '\t\tunsigned int n)\n'
    return head + '{\n' + '\tn++;\n' * body_lines + '}\n'


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_function_of_80_lines_passes_and_81_fails(tmp_path):
    write(tmp_path, 'a.c', c_function('short_enough', 80) + '\n' +
          c_function('too_long', 81, static=False))
    found = check_sizes.check(tmp_path / 'a.c')
    assert len(found) == 1
    assert 'a.c:86: too_long() has 81 lines' in found[0]


def test_prototypes_and_initialisers_are_not_functions(tmp_path):
    text = ('int proto(int a,\n\t  int b);\n'
            'static const struct ops my_ops = {\n' + '\t.x = 1,\n' * 90 +
            '};\n')
    write(tmp_path, 'b.c', text)
    assert check_sizes.check(tmp_path / 'b.c') == []


def test_a_file_over_800_lines_fails_and_mod_c_is_skipped(tmp_path, capsys):
    write(tmp_path, 'big.c', '/* x */\n' * 801)
    write(tmp_path, 'ok.c', '/* x */\n' * 800)
    write(tmp_path, 'big.mod.c', '/* x */\n' * 900)
    assert check_sizes.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert 'big.c: 801 lines' in out
    assert 'ok.c' not in out and 'mod.c' not in out


def test_clean_tree_exits_0(tmp_path, capsys):
    write(tmp_path, 'ok.c', c_function('fine', 10))
    assert check_sizes.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == ''
