# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness that runs a module's ``main()`` in the unit tests of this directory.

``conftest.py`` next to this file puts ``exit_json`` and ``fail_json`` below in place of
``AnsibleModule``'s for every test here. They raise ``AnsibleExitJson`` / ``AnsibleFailJson``
with the result instead of printing it and exiting. ``fail_json`` adds ``failed`` and ``msg``
as ``AnsibleModule``'s does, and ``exit_json`` adds the warnings the module gave. Unlike
``AnsibleModule``, a failure result carries no warnings, so a test that reads them also
checks that the module succeeded. Neither makes up a ``changed`` the module did not return.

A test runs a module with ``run_main(module.main, args)``, which gives ``(result, failed)``,
or with ``exit_result`` / ``fail_result``, which also fail the test when the module ended the
other way.
"""

from __future__ import annotations

import contextlib
import json
import tempfile

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import warnings

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()):
            yield


__all__ = ['AnsibleExitJson', 'AnsibleFailJson', 'exit_json', 'fail_json', 'patch_module_args',
           'run_main', 'exit_result', 'fail_result', 'patch_module_exits']


class AnsibleExitJson(Exception):
    """The module called ``exit_json``; ``result`` is what it returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class AnsibleFailJson(Exception):
    """The module called ``fail_json``; ``result`` is what it returned (with ``failed`` and ``msg``)."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


def exit_json(self, **kwargs):
    messages = list(warnings.get_warning_messages())
    if messages:
        kwargs['warnings'] = messages
    raise AnsibleExitJson(kwargs)


def fail_json(self, msg, **kwargs):
    kwargs.update(failed=True, msg=msg)
    raise AnsibleFailJson(kwargs)


def patch_module_exits(monkeypatch, tmpdir):
    """``AnsibleModule.exit_json``/``fail_json`` raise; warnings start empty; temporary files go to ``tmpdir``.

    ``AnsibleModule.tmpdir`` (and any other temporary file) goes under ``tmpdir``, a directory
    pytest removes: the atexit cleanup of a module's tmpdir does not run in ansible-test's
    xdist workers.
    """
    monkeypatch.setattr(tempfile, 'tempdir', str(tmpdir))
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(warnings, '_global_warnings', type(warnings._global_warnings)())


def run_main(main, args, check_mode=False, diff=False):
    """Run ``main()`` with the module arguments ``args``; ``(result, failed)``.

    ``check_mode`` and ``diff`` add ``_ansible_check_mode`` and ``_ansible_diff``. ``main()``
    must end in ``exit_json`` or ``fail_json``.
    """
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as info:
            main()
    return info.value.result, isinstance(info.value, AnsibleFailJson)


def exit_result(main, args, **kwargs):
    """The result of ``run_main``, which must end in ``exit_json``."""
    result, failed = run_main(main, args, **kwargs)
    if failed:
        pytest.fail('the module failed: %r' % (result,))
    return result


def fail_result(main, args, **kwargs):
    """The result of ``run_main``, which must end in ``fail_json``."""
    result, failed = run_main(main, args, **kwargs)
    if not failed:
        pytest.fail('the module did not fail: %r' % (result,))
    return result
