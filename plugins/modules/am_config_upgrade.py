#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: am_config_upgrade
short_description: Upgrade an AM configuration (Amster export or file-based) with amupgrade, all steps or nothing
version_added: 0.1.0
description:
  - Runs PingAM's C(amupgrade) utility (from C(Config-Upgrader-<version>.zip)) on the
    configuration directory O(config_dir) and replaces it with the upgraded configuration.
  - C(amupgrade) rules are sequential, one minor version per rules file. With O(mode=amster) the
    module computes the chain of rules files from O(from_version) to O(to_version) along the
    known sequence 7.2, 7.3, 7.4, 7.5, 8.1. For example, 7.2 to 8.1 takes four steps,
    C(rules/amster/7.2.x-to-7.3.x.groovy) to C(rules/amster/7.5.x-to-8.1.x.groovy).
    With O(mode=fbc) it runs C(rules/fbc/latest.groovy) once, with C(--fileBasedMode) and
    C(--ignoreNoRuleTracking), as the AM 8.1 upgrade guide shows.
  - Nothing runs unless the whole chain can be planned. A version outside the sequence (for
    example 8.0 or 7.1) or a chain that would go backwards fails before anything runs, and
    the message names the versions. So does a missing C(amupgrade) or rules file in O(amupgrade_home).
  - Each step writes into a new staging directory; step N reads the output of step N-1.
    A step succeeds only when C(amupgrade) exits with 0, prints its documented
    C(Upgrade Completed, modified configuration saved to ...) line, and its output's
    C(global/version.json) carries the step's target minor version.
  - Only when every step succeeded is the result moved into place. O(config_dir) is renamed to
    the backup (or aside and removed), and the upgraded tree is renamed to O(config_dir).
    When a step fails, O(config_dir) is left untouched and the staging directory is removed.
    The task then fails with every step run so far, the failing step's output and its stderr.
  - The upgraded tree takes the mode of each file that existed before. When the module runs as
    root, it also takes that file's owner and group, and new files take the owner of O(config_dir).
    This means an AM that runs as an unprivileged user can still write its configuration.
  - >-
    Idempotence is by configuration version. The version is read from
    C(<config_dir>/global/version.json) (C({"version": "X.Y.Z"})), or given as O(from_version).
    When its major.minor equals that of O(to_version), nothing runs and the task reports no
    change. Rules files exist per minor version only, so patch levels do not count. After an
    upgrade the version is read back from the new configuration.
  - C(amupgrade) cannot upgrade a running AM. When there is something to upgrade, the module
    refuses to start while AM is seen to run. AM is seen to run when C(<config_dir>/.am.lock)
    names a live process (the lab's stand-in AM writes it), when O(am_pid_file) names a live
    process, or when O(am_running_url) answers.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the plan, the chain and one command per step, in RV(steps), without running
        C(amupgrade). Staging paths there end in C(XXXXXX), because the real directory is created
        only when the upgrade runs.
      - A running AM is reported as a warning and in RV(am_running) instead of failing. The play
        would normally stop AM in an earlier task, which check mode does not run.
  diff_mode:
    support: full
    details:
      - The configuration version before and after.
  platform:
    platforms: posix
options:
  amupgrade_home:
    description:
      - The directory C(Config-Upgrader-<version>.zip) was unpacked to. It must hold the executable
        C(amupgrade) and the C(rules/amster/*.groovy) and C(rules/fbc/latest.groovy) files.
      - C(amupgrade) runs with this directory as its working directory.
    type: path
    required: true
  config_dir:
    description:
      - The configuration to upgrade in place, on the host the task runs on.
      - With O(mode=amster), this is an Amster export directory. With O(mode=fbc), it is the
        file-based configuration directory, for example C(/path/to/am/config/services).
      - Must be an absolute path and a real directory, not a symbolic link, because it is
        replaced by rename.
    type: path
    required: true
  mode:
    description:
      - V(amster) upgrades an Amster configuration export, one rules file per minor version.
      - V(fbc) upgrades a file-based configuration with C(rules/fbc/latest.groovy).
    type: str
    choices: [amster, fbc]
    required: true
  from_version:
    description:
      - The version of the configuration, for example V(7.2.0).
      - Defaults to the version in C(<config_dir>/global/version.json). When both are known and
        differ, the task fails.
      - Needed with O(mode=amster) when the configuration carries no version. With O(mode=fbc) a
        configuration without a version is upgraded (C(--ignoreNoRuleTracking)) and always
        reports a change.
    type: str
  to_version:
    description:
      - The AM version to upgrade the configuration to, for example V(8.1.0).
      - With O(mode=amster), its major.minor must be in the known sequence. With O(mode=fbc), it
        must be the release of the upgrader in O(amupgrade_home). The version the rules write is
        checked against it.
    type: str
    required: true
  amster_version:
    description:
      - The Amster version that will import the configuration (C(amupgrade -a)). Used with O(mode=amster).
      - Defaults to O(to_version).
    type: str
  staging_dir:
    description:
      - Directory in which a private, temporary staging directory is created for the step outputs.
        It is removed when the task ends.
      - Defaults to the parent directory of O(config_dir). It must be on the same file system as
        O(config_dir), which is replaced by rename, and must not be inside O(config_dir).
    type: path
  backup:
    description:
      - Keep the previous configuration as C(<config_dir>.<YYYYmmddTHHMMSS>.bak) next to
        O(config_dir). Its path is returned in RV(backup_dir).
      - With V(false), the previous configuration is removed after the swap.
      - Old backups are never removed.
    type: bool
    default: true
  keep_files:
    description:
      - Paths relative to O(config_dir) that are copied from the previous configuration into the
        upgraded one when C(amupgrade) did not write them.
      - The default follows the AM 8.1 runbook for file-based configurations. It copies
        C(noninteractive-install.properties) back from the old services directory.
    type: list
    elements: str
    default: [noninteractive-install.properties]
  am_pid_file:
    description:
      - A PID file of the AM process or its container, for example Tomcat's C(catalina.pid).
        If it names a live process, AM counts as running and the task fails.
      - C(<config_dir>/.am.lock) is always checked in the same way.
    type: path
  am_running_url:
    description:
      - A URL that only a running AM answers, for example V(http://127.0.0.1:8080/am/json/health/live).
      - AM counts as running when the URL answers with any HTTP status except 404. A 404 means
        the container runs without AM. A refused connection means AM is not running.
      - Any other error (timeout, name resolution, TLS) fails the task, because it cannot tell
        whether AM runs.
    type: str
  validate_certs:
    description:
      - Validate the TLS certificate of an https O(am_running_url).
    type: bool
    default: true
  java_home:
    description:
      - Exported as C(JAVA_HOME) to C(amupgrade), with C(<java_home>/bin) put first in C(PATH).
        C(amupgrade) has the same Java requirements as AM.
      - When not set, C(amupgrade) gets the module's environment.
    type: path
  timeout:
    description:
      - Seconds one C(amupgrade) step may run. After that its process group is killed and the
        task fails, leaving O(config_dir) untouched.
    type: int
    default: 600
notes:
  - Exit codes of C(amupgrade) are not documented. The module treats any non-zero exit, a missing
    C(Upgrade Completed) line, or a wrong version in the output as a failure of that step.
  - Between the two renames of the swap, O(config_dir) does not exist for a moment. AM is not
    running at that time, because the module refuses to run otherwise.
  - With O(mode=amster), importing the upgraded export into the new AM (Amster) is a separate step.
seealso:
  - name: PingAM 8.1 upgrade guide, amupgrade
    description: The amupgrade rules, Amster and file-based configuration upgrades.
    link: https://docs.pingidentity.com/pingam/8.1/upgrade/upgrade-server.html
  - module: idmops.lifecycle.am_rest_upgrade
  - module: idmops.lifecycle.tomcat_war
'''

EXAMPLES = r'''
- name: Upgrade an Amster export from 7.2 to 8.1 (four amupgrade steps)
  idmops.lifecycle.am_config_upgrade:
    amupgrade_home: /opt/am/amupgrade
    config_dir: /opt/am/export/am-config
    mode: amster
    to_version: 8.1.0
    java_home: /usr/lib/jvm/java-17-openjdk-amd64
  register: am_config

- name: Show the steps
  ansible.builtin.debug:
    msg: "{{ am_config.version_before }} -> {{ am_config.version_after }} via {{ am_config.chain }}"

- name: Upgrade a file-based configuration while AM is stopped
  idmops.lifecycle.am_config_upgrade:
    amupgrade_home: /opt/am/amupgrade
    config_dir: /opt/am/config/services
    mode: fbc
    to_version: 8.1.0
    am_pid_file: /opt/am/tomcat/temp/catalina.pid
    am_running_url: http://127.0.0.1:8080/am/json/health/live
'''

RETURN = r'''
version_before:
  description: The configuration version before the task, or null when it carried none.
  returned: always
  type: str
  sample: 7.2.0
version_after:
  description:
    - The version read back from C(global/version.json) after the upgrade.
    - Equal to RV(version_before) when nothing changed. In check mode, it is O(to_version).
  returned: always
  type: str
  sample: 8.1.0
chain:
  description: The rules files of the upgrade, relative to O(amupgrade_home), in order. Empty when nothing is to do.
  returned: always
  type: list
  elements: str
  sample: [rules/amster/7.2.x-to-7.3.x.groovy, rules/amster/7.3.x-to-7.4.x.groovy]
steps:
  description:
    - One entry per step run, or in check mode per step that would run.
    - When a step fails, it is the last entry.
  returned: always
  type: list
  elements: dict
  contains:
    rules_file:
      description: Absolute path of the rules file.
      type: str
      sample: /opt/am/amupgrade/rules/amster/7.2.x-to-7.3.x.groovy
    command:
      description: The command line.
      type: list
      elements: str
    from_version:
      description: The major.minor the step upgrades from (null for an unversioned file-based configuration).
      type: str
      sample: '7.2'
    to_version:
      description: The major.minor the step upgrades to.
      type: str
      sample: '7.3'
    rc:
      description: Exit code of C(amupgrade), null when it did not run (check mode).
      type: int
    stdout_lines:
      description: What C(amupgrade) printed.
      type: list
      elements: str
    stderr_lines:
      description: What C(amupgrade) wrote to stderr.
      type: list
      elements: str
    version_after:
      description: The version in the step's output, null when it was not read.
      type: str
      sample: 7.3.0
    seconds:
      description: How long the step ran, null when it did not run.
      type: float
backup_dir:
  description: Path of the previous configuration, or null when none was kept.
  returned: always
  type: str
  sample: /opt/am/export/am-config.20260501T101500.bak
kept_files:
  description: The O(keep_files) entries copied from the previous configuration.
  returned: always
  type: list
  elements: str
  sample: [noninteractive-install.properties]
am_running:
  description: Why AM was seen to run. Empty when it was not, or when nothing was to do.
  returned: always
  type: list
  elements: str
msg:
  description: A one-line summary.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._amupgrade import (
    DEFAULT_KEEP_FILES,
    MODES,
    AmUpgradeError,
    ConfigUpgrade,
    probe_am_url,
)


def argument_spec():
    return dict(
        amupgrade_home=dict(type='path', required=True),
        config_dir=dict(type='path', required=True),
        mode=dict(type='str', choices=list(MODES), required=True),
        from_version=dict(type='str'),
        to_version=dict(type='str', required=True),
        amster_version=dict(type='str'),
        staging_dir=dict(type='path'),
        backup=dict(type='bool', default=True),
        keep_files=dict(type='list', elements='str', default=list(DEFAULT_KEEP_FILES)),
        am_pid_file=dict(type='path'),
        am_running_url=dict(type='str'),
        validate_certs=dict(type='bool', default=True),
        java_home=dict(type='path'),
        timeout=dict(type='int', default=600),
    )


def build_upgrade(module):
    p = module.params
    url = p['am_running_url']
    if url is not None and not url.startswith(('http://', 'https://')):
        raise AmUpgradeError('am_running_url must start with http:// or https://, got %r' % url)
    validate_certs = p['validate_certs']

    def url_probe(target):
        return probe_am_url(target, validate_certs=validate_certs)

    return ConfigUpgrade(
        p['amupgrade_home'], p['config_dir'], p['mode'], p['to_version'], from_version=p['from_version'],
        amster_version=p['amster_version'], staging_dir=p['staging_dir'], backup=p['backup'],
        am_pid_file=p['am_pid_file'], am_running_url=url, java_home=p['java_home'], timeout=p['timeout'],
        keep_files=p['keep_files'], check_mode=module.check_mode, url_probe=url_probe)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    upgrade = None
    try:
        upgrade = build_upgrade(module)
        result = upgrade.run()
    except AmUpgradeError as exc:
        result = dict(exc.result)
        if not module._diff:
            result.pop('diff', None)
        for warning in upgrade.warnings if upgrade is not None else []:
            module.warn(warning)
        module.fail_json(msg=str(exc), **result)
    for warning in upgrade.warnings:
        module.warn(warning)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
