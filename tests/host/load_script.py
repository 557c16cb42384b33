"""The project's scripts/*.py as modules, for their tests."""

import importlib.util
import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_script(name):
    """scripts/@name.py (a name with dashes) as a module."""
    spec = importlib.util.spec_from_file_location(
        name.replace('-', '_'), os.path.join(TOP, 'scripts', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
