# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the vIDM simulator's record of connectors going down and up and of sync gaps."""

from __future__ import annotations

from ansible_collections.idmops.lifecycle.tests.unit.simulators.test_vidm_sim import base, call  # noqa: F401 pylint: disable=unused-import


def test_down_and_up_are_recorded_with_the_new_version(base):  # noqa: F811 pylint: disable=redefined-outer-name
    call(base + '/_sim/connectors/connector2.example.com/down', 'POST')
    status, body = call(base + '/_sim/connectors/connector2.example.com/up?version=19.03.0.2', 'POST')
    assert status == 200 and body['version'] == '19.03.0.2' and body['status'] == 'UP'
    events = call(base + '/_sim/connector-events')[1]['items']
    assert [(e['host'], e['up'], e['version']) for e in events] == [
        ('connector2.example.com', False, '19.03.0.1'), ('connector2.example.com', True, '19.03.0.2')]


def test_a_list_with_no_connector_up_is_a_gap(base):  # noqa: F811 pylint: disable=redefined-outer-name
    call(base + '/_sim/connectors/connector1.example.com/down', 'POST')
    assert call(base + '/_sim/sync-gaps')[1]['items'] == []   # connector1 is in no list yet
    call(base + '/_sim/connectors/connector2.example.com/down', 'POST')
    gaps = call(base + '/_sim/sync-gaps')[1]['items']
    assert [(g['name'], g['connectors'], g['cause']) for g in gaps] == [
        ('partners.example.com', ['connector2.example.com'], 'connector2.example.com down')]
