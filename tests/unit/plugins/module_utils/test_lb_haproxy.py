# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_lb/haproxy.py.

The runtime API answers below were captured from HAProxy 2.6.12 (Debian 12) with this config:
``backend be1`` with ``s1`` (checked), ``s2`` (checked), ``s3`` (``disabled`` in the config),
``s5`` (``track be1/s1``); then ``set server be1/s1 state drain``, one request held open on
``s2`` and ``set server be1/s2 state drain``. The transport is tested against real UNIX and TCP
sockets served by a thread.
"""

from __future__ import annotations

import errno
import os
import socket
import threading

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import BACKENDS, backend_from_params
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import haproxy as hap
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError, MemberState


SERVERS_STATE_HEADER = (
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
    'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state '
    'srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port '
    'srv_check_addr srv_agent_addr srv_agent_port'
)

SERVERS_STATE_BE1 = (
    '1\n' + SERVERS_STATE_HEADER + '\n'
    '3 be1 1 s1 127.0.0.1 2 8 1 1 7 15 3 4 6 0 0 0 - 28081 - 0 0 - - 0\n'
    '3 be1 2 s2 127.0.0.1 2 8 1 1 0 15 3 4 6 0 0 0 - 28082 - 0 0 - - 0\n'
    '3 be1 3 s3 127.0.0.1 0 5 1 1 9 1 0 0 14 0 0 0 - 28083 - 0 0 - - 0\n'
    '3 be1 4 s5 127.0.0.1 2 16 1 1 7 1 0 2 0 0 0 0 - 28082 - 0 0 - - 0\n'
    '\n'
)

STAT_HEADER = (
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,'
    'weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,'
    'rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,'
    'hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,'
    'lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,'
    'agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,'
    'conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,'
    'srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,'
    'need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,'
    'ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,'
    'h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,'
    'h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,'
    'h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,'
    'h1_spliced_bytes_in,h1_spliced_bytes_out,'
)

ROW_S1_DRAIN = (
    'be1,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,0,0,0,,1,3,1,,0,,2,0,,0,L7OK,200,0,0,0,0,0,0,0,,,,0,0,0,'
    ',,,,-1,,,0,0,0,0,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:28081,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,'
    '0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,'
)
ROW_S2_DRAIN_1_SESSION = (
    'be1,s2,0,0,1,1,,1,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,1,0,0,,1,3,2,,1,,2,1,,1,L7OK,200,3,0,0,0,0,0,0,,,,0,0,0,'
    ',,,,1,,,0,0,0,0,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:28082,,http,,,,,,,,0,1,0,,,0,,0,0,0,0,0,0,0,'
    '1,2,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,'
)
ROW_S3_MAINT = (
    'be1,s3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,2,2,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,'
    '0,0,0,0,,,,,,,,,,,,127.0.0.1:28083,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,'
    ',,,,,,,'
)
ROW_S5_DRAIN_TRACKED = (
    'be1,s5,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,,,0,,,1,3,4,,0,be1/s1,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,'
    ',,0,0,0,0,,,,,,,,,,,,127.0.0.1:28082,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,'
    ',,,,,,,,,'
)


def stat(*rows):
    return STAT_HEADER + '\n' + '\n'.join(rows) + '\n\n\n'


def replace_field(row, name, value):
    """Return ``row`` with the CSV field ``name`` set to ``value`` (header from STAT_HEADER)."""
    header = STAT_HEADER[2:].split(',')
    values = row.split(',')
    values[header.index(name)] = value
    return ','.join(values)


def servers_state(*lines):
    return '1\n' + SERVERS_STATE_HEADER + '\n' + '\n'.join(lines) + '\n\n'


class FakeAPI:
    """A runtime API that answers from a dict and records every command sent."""

    endpoint = 'haproxy_socket=/fake/admin.sock'

    def __init__(self, answers):
        self.answers = answers
        self.commands = []

    def execute(self, command):
        self.commands.append(command)
        answer = self.answers.get(command, 'Unknown command: %r\n\n' % command)
        return answer() if callable(answer) else answer


def be1_answers(**extra):
    answers = {
        'show servers state be1': SERVERS_STATE_BE1,
        'show stat 3 4 1': stat(ROW_S1_DRAIN),
        'show stat 3 4 2': stat(ROW_S2_DRAIN_1_SESSION),
        'show stat 3 4 3': stat(ROW_S3_MAINT),
        'show stat 3 4 4': stat(ROW_S5_DRAIN_TRACKED),
    }
    answers.update(extra)
    return answers


# --- parsing ---------------------------------------------------------------------------------

def test_parse_servers_state_real_output():
    rows = hap.parse_servers_state(SERVERS_STATE_BE1)
    assert [r['srv_name'] for r in rows] == ['s1', 's2', 's3', 's5']
    assert rows[0]['be_id'] == '3'
    assert rows[0]['srv_id'] == '1'
    assert [r['srv_admin_state'] for r in rows] == ['8', '8', '5', '16']
    assert [r['srv_op_state'] for r in rows] == ['2', '2', '0', '2']
    assert rows[2]['srv_port'] == '28083'
    assert rows[0]['_version'] == 1


def test_parse_servers_state_empty_backend_is_empty_list():
    assert hap.parse_servers_state('1\n' + SERVERS_STATE_HEADER + '\n\n') == []


@pytest.mark.parametrize('reply', ["Can't find backend.\n\n", '', '\n', 'Permission denied\n\n', '# be_id be_name\n'])
def test_parse_servers_state_rejects_error_texts(reply):
    with pytest.raises(hap.HAProxyReplyError) as exc:
        hap.parse_servers_state(reply)
    assert exc.value.reply == reply


def test_parse_show_stat_real_output():
    rows = hap.parse_show_stat(stat(ROW_S1_DRAIN, ROW_S2_DRAIN_1_SESSION, ROW_S3_MAINT, ROW_S5_DRAIN_TRACKED))
    assert [(r['pxname'], r['svname'], r['status'], r['scur'], r['qcur']) for r in rows] == [
        ('be1', 's1', 'DRAIN', '0', '0'),
        ('be1', 's2', 'DRAIN', '1', '0'),
        ('be1', 's3', 'MAINT', '0', '0'),
        ('be1', 's5', 'DRAIN', '0', '0'),
    ]
    # status is field 18 (index 17), as documented for show stat
    assert STAT_HEADER[2:].split(',')[17] == 'status'
    assert rows[1]['check_status'] == 'L7OK'
    assert rows[1]['addr'] == '127.0.0.1:28082'
    assert rows[3]['tracked'] == 'be1/s1'


def test_parse_show_stat_status_with_space_and_slash():
    row = replace_field(ROW_S1_DRAIN, 'status', 'MAINT (via be1/s1)')
    assert hap.parse_show_stat(stat(row))[0]['status'] == 'MAINT (via be1/s1)'


def test_parse_show_stat_header_only_is_empty_list():
    assert hap.parse_show_stat(STAT_HEADER + '\n\n') == []


@pytest.mark.parametrize('reply', ['No such proxy.\n\n', 'Unknown command\n', ''])
def test_parse_show_stat_rejects_error_texts(reply):
    with pytest.raises(hap.HAProxyReplyError):
        hap.parse_show_stat(reply)


# --- admin state bits ------------------------------------------------------------------------

@pytest.mark.parametrize('bits, state, names', [
    (0, 'enabled', []),
    (0x01, 'disabled', ['FMAINT']),
    (0x02, 'enabled', ['IMAINT']),            # tracked server in maintenance: not ours to clear
    (0x04, 'enabled', ['CMAINT']),            # "disabled" in config, then "ready": stays 4
    (0x05, 'disabled', ['FMAINT', 'CMAINT']),  # "disabled" in config, as HAProxy 2.6 starts it
    (0x08, 'drained', ['FDRAIN']),
    (0x10, 'enabled', ['IDRAIN']),
    (0x09, 'disabled', ['FMAINT', 'FDRAIN']),  # maintenance wins over drain
    (0x18, 'drained', ['FDRAIN', 'IDRAIN']),
    (0x20, 'enabled', ['RMAINT']),
    (0x40, 'enabled', ['HMAINT']),
    (0x48, 'drained', ['FDRAIN', 'HMAINT']),
    (0x180, 'enabled', ['0x180']),
])
def test_admin_state_from_flags(bits, state, names):
    assert hap.admin_state_from_flags(bits) == state
    assert hap.admin_flag_names(bits) == names


def test_module_states_map_to_haproxy_keywords():
    assert hap.HAPROXY_STATE == {'enabled': 'ready', 'drained': 'drain', 'disabled': 'maint'}


# --- get_member ------------------------------------------------------------------------------

def test_get_member_drained_with_session():
    api = FakeAPI(be1_answers())
    member = hap.HAProxyBackend(api).get_member('be1', 's2')
    assert member.admin_state == 'drained'
    assert member.operational_status == 'DRAIN'
    assert member.current_sessions == 1
    assert member.raw['admin_flags'] == ['FDRAIN']
    assert member.raw['srv_admin_state'] == 8
    assert member.raw['op_state'] == 'RUNNING'
    assert member.raw['queued_sessions'] == 0
    assert member.raw['check_status'] == 'L7OK'
    assert api.commands == ['show servers state be1', 'show stat 3 4 2']


def test_get_member_config_disabled_is_disabled():
    member = hap.HAProxyBackend(FakeAPI(be1_answers())).get_member('be1', 's3')
    assert (member.admin_state, member.operational_status) == ('disabled', 'MAINT')
    assert member.raw['admin_flags'] == ['FMAINT', 'CMAINT']


def test_get_member_inherited_drain_is_enabled_but_status_drain():
    backend = hap.HAProxyBackend(FakeAPI(be1_answers()))
    member = backend.get_member('be1', 's5')
    assert (member.admin_state, member.operational_status) == ('enabled', 'DRAIN')
    assert backend.is_member_up(member) is False


def test_get_member_unknown_backend():
    api = FakeAPI({'show servers state nope': "Can't find backend.\n\n"})
    with pytest.raises(LBError) as exc:
        hap.HAProxyBackend(api).get_member('nope', 's1')
    msg = str(exc.value)
    assert "pool='nope'" in msg
    assert 'no backend of that name' in msg
    assert "Can't find backend." in msg
    assert 'haproxy_socket=/fake/admin.sock' in msg
    assert api.commands == ['show servers state nope']


def test_get_member_unknown_server_lists_known_ones():
    api = FakeAPI(be1_answers())
    with pytest.raises(LBError) as exc:
        hap.HAProxyBackend(api).get_member('be1', 'zz')
    assert str(exc.value) == "member='zz': HAProxy backend 'be1' has no server of that name (its servers: s1, s2, s3, s5)"
    assert api.commands == ['show servers state be1']


def test_get_member_server_name_is_case_sensitive():
    with pytest.raises(LBError, match="member='S1'"):
        hap.HAProxyBackend(FakeAPI(be1_answers())).get_member('be1', 'S1')


def test_get_member_vanished_between_commands():
    api = FakeAPI(be1_answers(**{'show stat 3 4 1': STAT_HEADER + '\n\n'}))
    with pytest.raises(LBError, match='missing from'):
        hap.HAProxyBackend(api).get_member('be1', 's1')


def test_get_member_permission_denied_on_show():
    api = FakeAPI({'show servers state be1': 'Permission denied\n\n'})
    with pytest.raises(LBError, match='level admin'):
        hap.HAProxyBackend(api).get_member('be1', 's1')


@pytest.mark.parametrize('pool, member, bad', [
    ('be1', 's1;shutdown sessions server be1/s2', 'member'),
    ('be1 ', 's1', 'pool'),
    ('be1', 's1\nset server be1/s2 state maint', 'member'),
    ('', 's1', 'pool'),
    ('be1', 'be2/s1', 'member'),
])
def test_invalid_names_are_refused_before_any_command(pool, member, bad):
    api = FakeAPI(be1_answers())
    backend = hap.HAProxyBackend(api)
    with pytest.raises(LBError) as exc:
        backend.get_member(pool, member)
    assert str(exc.value).startswith('%s=' % bad)
    with pytest.raises(LBError):
        backend.set_admin_state(pool, member, 'drained')
    assert api.commands == []


# --- set_admin_state -------------------------------------------------------------------------

@pytest.mark.parametrize('state, keyword', [('enabled', 'ready'), ('drained', 'drain'), ('disabled', 'maint')])
def test_set_admin_state_sends_the_haproxy_keyword(state, keyword):
    command = 'set server be1/s1 state %s' % keyword
    api = FakeAPI({command: '\n'})
    hap.HAProxyBackend(api).set_admin_state('be1', 's1', state)
    assert api.commands == [command]


@pytest.mark.parametrize('reply, expected', [
    ('No such server.\n\n', "member='s9': HAProxy backend 'be1' has no server of that name (it answered 'No such server.')"),
    ('No such backend.\n\n', "pool='be1': HAProxy (haproxy_socket=/fake/admin.sock) has no backend of that name "
                             "(it answered 'No such backend.')"),
    ('Permission denied\n\n', "HAProxy (haproxy_socket=/fake/admin.sock) refused 'set server be1/s9 state drain': "
                              'Permission denied. The stats socket must be declared with "level admin".'),
    ("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
     "HAProxy (haproxy_socket=/fake/admin.sock) refused 'set server be1/s9 state drain': "
     "'set server <srv> state' expects 'ready', 'drain' and 'maint'."),
])
def test_set_admin_state_error_texts(reply, expected):
    api = FakeAPI({'set server be1/s9 state drain': reply})
    with pytest.raises(hap.HAProxyReplyError) as exc:
        hap.HAProxyBackend(api).set_admin_state('be1', 's9', 'drained')
    assert str(exc.value) == expected
    assert exc.value.reply == reply


def test_set_admin_state_rejects_unknown_state():
    api = FakeAPI({})
    with pytest.raises(LBError, match='state must be one of'):
        hap.HAProxyBackend(api).set_admin_state('be1', 's1', 'ready')
    assert api.commands == []


# --- UP and session accounting -------------------------------------------------------------------

def member(admin_state='enabled', status='UP', scur=0, bits=0, queued=0):
    return MemberState(admin_state, status, scur, raw=dict(srv_admin_state=bits, queued_sessions=queued))


@pytest.mark.parametrize('state, up', [
    (member(status='UP'), True),
    (member(status='no check'), True),
    (member(status='UP 1/3'), False),     # right after leaving maintenance, checks not yet passed
    (member(status='DOWN'), False),
    (member(status='DOWN 1/2'), False),
    (member(status='NOLB'), False),
    (member(status='DRAIN'), False),
    (member(status='MAINT (via be1/s1)', bits=0x02), False),
    (member(admin_state='drained', status='UP', bits=0x08), False),
    (member(status='UP', bits=0x10), False),
])
def test_is_member_up(state, up):
    assert hap.HAProxyBackend(FakeAPI({})).is_member_up(state) is up


def test_sessions_remaining_counts_queued():
    backend = hap.HAProxyBackend(FakeAPI({}))
    assert backend.sessions_remaining(member(scur=2, queued=3)) == 5
    assert backend.describe_sessions(member(scur=2, queued=3)) == '2 current session(s) and 3 queued'
    assert backend.describe_sessions(member(scur=1)) == '1 current session(s)'


def test_get_member_reads_queued_sessions():
    row = replace_field(replace_field(ROW_S1_DRAIN, 'qcur', '4'), 'scur', '7')
    backend = hap.HAProxyBackend(FakeAPI(be1_answers(**{'show stat 3 4 1': stat(row)})))
    state = backend.get_member('be1', 's1')
    assert (state.current_sessions, state.raw['queued_sessions']) == (7, 4)
    assert backend.sessions_remaining(state) == 11


# --- addresses and construction --------------------------------------------------------------

@pytest.mark.parametrize('address, expected', [
    ('127.0.0.1:9999', ('127.0.0.1', 9999)),
    ('lb1.example.com:19999', ('lb1.example.com', 19999)),
    ('[::1]:9999', ('::1', 9999)),
    (' 127.0.0.1:1 ', ('127.0.0.1', 1)),
])
def test_parse_address(address, expected):
    assert hap.parse_address(address) == expected


@pytest.mark.parametrize('address', ['127.0.0.1', ':9999', '127.0.0.1:', '127.0.0.1:http', '::1:9999',
                                     '127.0.0.1:0', '127.0.0.1:65536', '[]:9999', ''])
def test_parse_address_rejects(address):
    with pytest.raises(ValueError):
        hap.parse_address(address)


def test_runtime_api_needs_exactly_one_endpoint():
    with pytest.raises(LBError, match='exactly one of haproxy_socket or haproxy_address'):
        hap.HAProxyRuntimeAPI()
    with pytest.raises(LBError, match='exactly one'):
        hap.HAProxyRuntimeAPI(socket_path='/x', address='127.0.0.1:1')


def test_runtime_api_bad_address_names_the_option():
    with pytest.raises(LBError) as exc:
        hap.HAProxyRuntimeAPI(address='localhost')
    assert str(exc.value).startswith("haproxy_address='localhost' is not valid")


def test_registry_and_from_params():
    assert BACKENDS['haproxy'] is hap.HAProxyBackend
    backend = backend_from_params(dict(backend='haproxy', haproxy_socket='/run/h.sock', haproxy_address=None, timeout=2.5))
    assert isinstance(backend, hap.HAProxyBackend)
    assert backend.api.endpoint == 'haproxy_socket=/run/h.sock'
    assert backend.api.timeout == 2.5
    backend = backend_from_params(dict(backend='haproxy', haproxy_socket=None, haproxy_address='127.0.0.1:19999', timeout=5.0))
    assert (backend.api.host, backend.api.port) == ('127.0.0.1', 19999)
    with pytest.raises(LBError, match="backend='nginx' is not supported"):
        backend_from_params(dict(backend='nginx'))


def test_monitor_hooks_not_supported_for_haproxy():
    backend = hap.HAProxyBackend(FakeAPI({}))
    with pytest.raises(NotImplementedError, match='haproxy does not support monitor toggling'):
        backend.set_monitors('be1', False)


# --- transport over real sockets -------------------------------------------------------------

class OneShotServer:
    """Accepts connections on a real socket like HAProxy's non-interactive CLI: one command, one
    answer, then close. ``reply`` is bytes or a dict from command to answer text."""

    def __init__(self, listener, reply=b'', silent=False):
        self.listener = listener
        self.reply = reply
        self.silent = silent
        self.received = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b''
                while not data.endswith(b'\n'):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.received.append(data)
                if self.silent:
                    self._stop.wait(2)
                    continue
                if isinstance(self.reply, dict):
                    command = data.decode().strip()
                    conn.sendall(self.reply.get(command, 'Unknown command: %r\n\n' % command).encode())
                else:
                    conn.sendall(self.reply)

    def close(self):
        self._stop.set()
        self.thread.join(3)
        self.listener.close()


@pytest.fixture
def unix_server(tmp_path):
    servers = []

    def start(reply=b'', silent=False):
        path = str(tmp_path / 'admin.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(4)
        server = OneShotServer(listener, reply, silent)
        server.path = path
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def tcp_server():
    servers = []

    def start(reply=b''):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(('127.0.0.1', 0))
        listener.listen(4)
        server = OneShotServer(listener, reply)
        server.address = '127.0.0.1:%d' % listener.getsockname()[1]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_execute_over_unix_socket(unix_server):
    server = unix_server(SERVERS_STATE_BE1.encode())
    api = hap.HAProxyRuntimeAPI(socket_path=server.path, timeout=2)
    assert api.execute('show servers state be1') == SERVERS_STATE_BE1
    assert server.received == [b'show servers state be1\n']


def test_get_member_over_tcp(tcp_server):
    server = tcp_server(be1_answers())
    backend = hap.HAProxyBackend(hap.HAProxyRuntimeAPI(address=server.address, timeout=2))
    state = backend.get_member('be1', 's2')
    assert (state.admin_state, state.operational_status, state.current_sessions) == ('drained', 'DRAIN', 1)
    assert server.received == [b'show servers state be1\n', b'show stat 3 4 2\n']


def test_unknown_backend_over_tcp_names_address(tcp_server):
    server = tcp_server(b"Can't find backend.\n\n")
    backend = hap.HAProxyBackend(hap.HAProxyRuntimeAPI(address=server.address, timeout=2))
    with pytest.raises(LBError) as exc:
        backend.get_member('be9', 's1')
    assert "pool='be9'" in str(exc.value)
    assert 'haproxy_address=%s' % server.address in str(exc.value)
    assert server.received == [b'show servers state be9\n']


def test_execute_missing_unix_socket_names_the_path(tmp_path):
    path = str(tmp_path / 'nope.sock')
    with pytest.raises(LBError) as exc:
        hap.HAProxyRuntimeAPI(socket_path=path).execute('show info')
    assert str(exc.value) == ('cannot connect to HAProxy admin socket haproxy_socket=%s: no such file '
                              '(is HAProxy running, and is this its "stats socket" path?)' % path)


def test_execute_regular_file_is_refused(tmp_path):
    path = tmp_path / 'not-a-socket'
    path.write_text('x')
    with pytest.raises(LBError, match='haproxy_socket=%s: connection refused' % path):
        hap.HAProxyRuntimeAPI(socket_path=str(path)).execute('show info')


def test_execute_permission_denied(monkeypatch):
    def connect(self):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(hap.HAProxyRuntimeAPI, '_connect', connect)
    with pytest.raises(LBError) as exc:
        hap.HAProxyRuntimeAPI(socket_path='/run/haproxy/admin.sock').execute('show info')
    assert str(exc.value).startswith('cannot connect to HAProxy admin socket haproxy_socket=/run/haproxy/admin.sock: '
                                     'permission denied')


def test_execute_tcp_refused_names_the_address():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(LBError) as exc:
        hap.HAProxyRuntimeAPI(address='127.0.0.1:%d' % port, timeout=2).execute('show info')
    assert 'haproxy_address=127.0.0.1:%d: connection refused' % port in str(exc.value)


def test_execute_timeout_names_the_timeout(unix_server):
    server = unix_server(silent=True)
    with pytest.raises(LBError) as exc:
        hap.HAProxyRuntimeAPI(socket_path=server.path, timeout=0.2).execute('show info')
    assert str(exc.value) == ("HAProxy admin socket haproxy_socket=%s did not finish answering 'show info' "
                              'within timeout=0.2s' % server.path)


def test_execute_refuses_multiline_commands():
    with pytest.raises(LBError, match='multi-line'):
        hap.HAProxyRuntimeAPI(socket_path='/x').execute('show info\nshutdown frontend fe')
