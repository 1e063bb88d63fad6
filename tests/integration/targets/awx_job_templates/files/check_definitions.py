"""Checks awx/'s definitions with tools/run_job_template.py's validator, and that the validator finds what it must.

    python check_definitions.py COLLECTION_ROOT
"""

import copy
import os
import shutil
import sys
import tempfile

import yaml


def check(condition, message):
    if not condition:
        raise SystemExit('check_definitions: ' + message)


def broken(root, tool, change):
    """The validator's problems for a copy of awx/ in which change(types, templates, surveys) broke something."""
    with tempfile.TemporaryDirectory() as tmp:
        awx_dir = os.path.join(tmp, 'awx')
        shutil.copytree(os.path.join(root, 'awx'), awx_dir)
        with open(os.path.join(awx_dir, 'credential_types.yml'), encoding='utf-8') as handle:
            types = yaml.safe_load(handle)
        with open(os.path.join(awx_dir, 'job_templates.yml'), encoding='utf-8') as handle:
            templates = yaml.safe_load(handle)
        with open(os.path.join(awx_dir, 'surveys', 'am_site_upgrade.yml'), encoding='utf-8') as handle:
            survey = yaml.safe_load(handle)
        change(types['credential_types'], templates['job_templates'], survey['spec'])
        for name, data in (('credential_types.yml', types), ('job_templates.yml', templates),
                           (os.path.join('surveys', 'am_site_upgrade.yml'), survey)):
            with open(os.path.join(awx_dir, name), 'w', encoding='utf-8') as handle:
                yaml.safe_dump(data, handle)
        return tool.validate(root=root, awx_dir=awx_dir)


def question(spec, variable):
    return next(q for q in spec if q['variable'] == variable)


def main():
    root = sys.argv[1]
    sys.path.insert(0, os.path.join(root, 'tools'))
    import run_job_template as tool

    problems = tool.validate(root=root)
    check(problems == [], 'awx/ has problems:\n' + '\n'.join(problems))
    _types, templates = tool.load_definitions(os.path.join(root, 'awx'))
    site = tool.find_template(templates, 'am_site_upgrade')
    defaults = tool.survey_extra_vars(site)
    check(defaults['am_site_upgrade_drain_timeout'] == 300 and defaults['am_site_upgrade_site'] == 'am_site1',
          'survey defaults %s' % defaults)
    connector = tool.find_template(templates, 'vidm_connector_upgrade')
    check(tool.missing_answers(connector, tool.survey_extra_vars(connector)) == [
        'vidm_connector_upgrade_version', 'vidm_connector_upgrade_checksum'], 'connector answers')

    cases = [
        (lambda t, j, s: question(s, 'am_site_upgrade_config_method').update(default='ssh'),
         "default 'ssh' is not among the choices"),
        (lambda t, j, s: question(s, 'am_site_upgrade_drain_timeout').update(default='300'), 'is not a integer'),
        (lambda t, j, s: question(s, 'am_site_upgrade_drain_timeout').update(type='text', default='300'),
         'the role takes a int'),
        (lambda t, j, s: question(s, 'am_site_upgrade_readiness_timeout').update(default=5), 'outside [10, 7200]'),
        (lambda t, j, s: question(s, 'am_site_upgrade_config_method').update(choices=['amupgrade', 'ssh']),
         "are not all among the role's"),
        (lambda t, j, s: s.append(copy.deepcopy(s[0])), 'survey variables repeat'),
        (lambda t, j, s: s.append(dict(question_name='Typo', variable='am_site_upgrade_vesion', type='text',
                                       required=False, default='')), 'am_site_upgrade_vesion is neither an option'),
        (lambda t, j, s: s.append(dict(question_name='LDAP', variable='am_site_upgrade_ldap_uri', type='text',
                                       required=False, default='')), 'is also injected by a credential'),
        (lambda t, j, s: s.append(dict(question_name='pw', variable='am_site_upgrade_key_alias', type='password',
                                       required=False, default='x')), 'must have no default'),
        (lambda t, j, s: question(s, 'am_site_upgrade_wizard_cleanup').update(type='boolean'), "type 'boolean'"),
        (lambda t, j, s: t[0]['inputs']['fields'][2].pop('secret'), 'must be secret: true'),
        (lambda t, j, s: t[0]['injectors']['extra_vars'].update(x='{{ nope }}'), 'uses nope, which is no input'),
        (lambda t, j, s: t[1]['injectors']['extra_vars'].update(am_admin_password='{{ password }}'),
         'both inject am_admin_password'),
        (lambda t, j, s: j[0]['credential_types'].append('idmops nothing'), 'unknown credential types'),
    ]
    for change, expected in cases:
        found = broken(root, tool, change)
        check(any(expected in p for p in found), 'expected a problem with %r, got %s' % (expected, found))
    print('check_definitions: awx/ is valid; the validator found each of %d planted problems' % len(cases))


if __name__ == '__main__':
    main()
