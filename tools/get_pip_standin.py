# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches ``get-pip-<version>.py`` from a host this machine cannot reach, but it
uses a cached copy under ``~/.ansible/test/cache`` when one exists. ``make`` installs this
file there. It does what get-pip does for ansible-test: install pip from a wheel into the
running interpreter, from the pip wheel that ``make`` downloads from PyPI (reachable) into
the same cache directory.
"""

from __future__ import annotations

import glob
import os
import sys

GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def main():
    cache_dir = os.path.dirname(os.path.abspath(__file__))
    wheels = sorted(glob.glob(os.path.join(cache_dir, 'pip-*-py3-none-any.whl')))
    if not wheels:
        sys.exit('no pip wheel beside %s; run `make sanity` to fetch one' % (__file__,))
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    sys.exit(pip_main(['install', '--upgrade', '--force-reinstall', '--no-cache-dir'] + args))


if __name__ == '__main__':
    main()
