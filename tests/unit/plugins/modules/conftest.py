# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for every module unit test in this directory (the harness itself is in utils.py)."""

from __future__ import annotations

import pytest

from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import patch_module_exits


@pytest.fixture(autouse=True)
def module_exits(monkeypatch, tmp_path_factory):
    """``AnsibleModule.exit_json``/``fail_json`` raise, and a module's temporary files stay under pytest's tmp."""
    patch_module_exits(monkeypatch, tmp_path_factory.mktemp('moduletmp'))
