#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the playbook of one of awx/job_templates.yml's job templates under ansible-runner, as AWX would.

The survey defaults are the extra vars, then -e adds to or overrides them, like answers to the survey.
--env sets environment variables of the run, as AWX's "Extra Environment Variables" setting does for
every job; a few of the caller's own (PASSED_ENVIRONMENT) are passed on too.
Prints the run's status and each host's counts, and exits with the playbook's return code.

    tools/run_job_template.py --list
    tools/run_job_template.py --validate
    tools/run_job_template.py "idmops AM site upgrade" --inventory build/lab/inventory.yml -e @lab/site-upgrade-vars.yml
    tools/run_job_template.py am_site_upgrade --syntax-check
    tools/run_job_template.py vidm_connector_upgrade -i build/lab/inventory.yml \
        -e @build/lab/job_templates/survey_answers.yml --env @build/lab/job_templates/task_env.yml

--validate checks every definition in awx/ (credential types, job templates, surveys) against what AWX
accepts and against the roles' meta/argument_specs.yml, and prints each problem.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AWX_DIR = os.path.join(ROOT, 'awx')
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
FIELD_TYPES = ('string', 'boolean')
IDENTIFIER = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
INJECTOR_REFERENCE = re.compile(r'{{\s*([A-Za-z_][\w.]*)\s*}}')
# What a run inherits from the caller's environment: where the collections are, and the upgrade report.
PASSED_ENVIRONMENT = ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_CONFIG', 'ANSIBLE_HOME', 'ANSIBLE_CALLBACKS_ENABLED',
                      'ANSIBLE_UPGRADE_REPORT_DIR', 'ANSIBLE_UPGRADE_REPORT_PROBE_FILE')
# Survey answers reach the playbook as strings; these role option types accept the survey type given.
SURVEY_TYPE_FOR = {'int': ('integer',), 'float': ('float', 'integer'), 'bool': ('multiplechoice',),
                   'list': ('multiselect',)}


class DefinitionError(Exception):
    """A definition file that cannot be read."""


def load_yaml(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError('cannot read %s: %s' % (path, exc)) from exc


def load_definitions(awx_dir=AWX_DIR):
    """(credential types, job templates), each job template with its survey (or None) under 'survey_spec'."""
    types = load_yaml(os.path.join(awx_dir, 'credential_types.yml'))['credential_types']
    templates = load_yaml(os.path.join(awx_dir, 'job_templates.yml'))['job_templates']
    for template in templates:
        survey = template.get('survey')
        template['survey_spec'] = load_yaml(os.path.join(awx_dir, survey)) if survey else None
    return types, templates


def role_options(root, role):
    """Every option of every entry point of the role's argument specs, or None when the role has none."""
    path = os.path.join(root, 'roles', role, 'meta', 'argument_specs.yml')
    if not os.path.exists(path):
        return None
    options = {}
    for entry in (load_yaml(path).get('argument_specs') or {}).values():
        options.update(entry.get('options') or {})
    return options


def injected_variables(credential_type):
    return set((credential_type.get('injectors') or {}).get('extra_vars') or {})


def validate_credential_type(ct):
    name = ct.get('name', '?')
    problems = []
    fields = (ct.get('inputs') or {}).get('fields') or []
    ids = [f.get('id') for f in fields]
    if ct.get('kind') not in ('cloud', 'net'):
        problems.append('kind must be cloud or net')
    if not fields or len(set(ids)) != len(ids):
        problems.append('inputs.fields must name distinct ids')
    for field in fields:
        if field.get('type') not in FIELD_TYPES or not field.get('label'):
            problems.append('field %s: type must be one of %s, and a label is needed' % (field.get('id'), FIELD_TYPES))
        if re.search('password|secret', field.get('id') or '') and not field.get('secret'):
            problems.append('field %s holds a secret and must be secret: true' % field.get('id'))
    for required in (ct.get('inputs') or {}).get('required') or []:
        if required not in ids:
            problems.append('required input %s is not a field' % required)
    injectors = ct.get('injectors') or {}
    files = {key.split('.', 1)[1] for key in injectors.get('file') or {}}
    if not (injectors.get('extra_vars') or injectors.get('env')):
        problems.append('injects nothing')
    for section in ('extra_vars', 'env', 'file'):
        for key, value in (injectors.get(section) or {}).items():
            for reference in INJECTOR_REFERENCE.findall(str(value)):
                known = reference in ids or (reference.startswith('tower.filename.')
                                             and reference.split('.', 2)[2] in files)
                if not known:
                    problems.append('injector %s.%s uses %s, which is no input' % (section, key, reference))
    return ['credential type %s: %s' % (name, p) for p in problems]


def validate_question(question, option):
    """Problems of one survey question; option is the role's argument spec for its variable, or None."""
    problems = []
    kind, default, variable = question.get('type'), question.get('default'), question.get('variable') or ''
    if not question.get('question_name') or not IDENTIFIER.match(variable):
        problems.append('needs a question_name and a variable that is an identifier')
    if kind not in SURVEY_TYPES:
        return problems + ['type %r is not one of %s' % (kind, ', '.join(SURVEY_TYPES))]
    if not isinstance(question.get('required'), bool):
        problems.append('required must be true or false')
    choices = question.get('choices')
    if kind in ('multiplechoice', 'multiselect'):
        if not (isinstance(choices, list) and choices and all(isinstance(c, str) for c in choices)
                and len(set(choices)) == len(choices)):
            return problems + ['choices must be a list of distinct strings']
        selected = default if kind == 'multiselect' else [default]
        if not isinstance(selected, list) or not all(s in choices for s in selected if s != ''):
            problems.append('default %r is not among the choices %s' % (default, choices))
    elif choices is not None:
        problems.append('choices are only for multiplechoice and multiselect')
    low, high = question.get('min'), question.get('max')
    if kind in ('integer', 'float'):
        number = int if kind == 'integer' else (int, float)
        if not isinstance(default, number) or isinstance(default, bool):
            problems.append('default %r is not a %s' % (default, kind))
        elif (low is not None and default < low) or (high is not None and default > high):
            problems.append('default %r is outside [%s, %s]' % (default, low, high))
    elif kind in ('text', 'textarea', 'password'):
        if not isinstance(default, str):
            problems.append('default %r is not a string' % (default,))
        elif default and ((low is not None and len(default) < low) or (high is not None and len(default) > high)):
            problems.append('default is %d characters, outside [%s, %s]' % (len(default), low, high))
        if kind == 'password' and default:
            problems.append('a password question must have no default: secrets go into credentials')
    if option is not None:
        wanted = SURVEY_TYPE_FOR.get(option.get('type'))
        if wanted and kind not in wanted:
            problems.append('the role takes a %s: the question must be %s' % (option.get('type'), ' or '.join(wanted)))
        if option.get('type') == 'bool' and set(choices or ()) != {'true', 'false'}:
            problems.append('a yes/no question has the choices "true" and "false"')
        if option.get('choices') and choices and not set(choices) <= {str(c) for c in option['choices']}:
            problems.append('choices %s are not all among the role\'s %s' % (choices, option['choices']))
        if option.get('no_log'):
            problems.append('the role marks it no_log: take it from a credential, not a survey')
    return ['%s: %s' % (variable or '?', p) for p in problems]


def validate(root=ROOT, awx_dir=AWX_DIR):
    """Every problem of the definitions in awx_dir, as lines; empty when all is well."""
    types, templates = load_definitions(awx_dir)
    problems = []
    by_name = {}
    injected_by = {}
    for ct in types:
        problems.extend(validate_credential_type(ct))
        if ct.get('name') in by_name:
            problems.append('credential type %s is defined twice' % ct.get('name'))
        by_name[ct.get('name')] = ct
        for variable in injected_variables(ct):
            if variable in injected_by:
                problems.append('credential types %s and %s both inject %s'
                                % (injected_by[variable], ct['name'], variable))
            injected_by[variable] = ct['name']
    names = [t.get('name') for t in templates]
    if len(set(names)) != len(names):
        problems.append('job template names repeat: %s' % names)
    for template in templates:
        where = 'job template %s' % template.get('name')
        playbook = template.get('playbook') or ''
        if not playbook.startswith('playbooks/') or not playbook.endswith('.yml'):
            problems.append('%s: playbook must be playbooks/<name>.yml, got %r' % (where, playbook))
        unknown = [c for c in template.get('credential_types', []) if c not in by_name]
        if unknown:
            problems.append('%s: unknown credential types %s' % (where, unknown))
        survey = template['survey_spec']
        if survey is None:
            continue
        spec = survey.get('spec')
        if not survey.get('name') or 'description' not in survey or not isinstance(spec, list) or not spec:
            problems.append('%s: a survey needs a name, a description and a non-empty spec' % where)
            continue
        variables = [q.get('variable') for q in spec]
        if len(set(variables)) != len(variables):
            problems.append('%s: survey variables repeat: %s' % (where, variables))
        options = role_options(root, template['role']) if template.get('role') else None
        injected = set().union(*(injected_variables(by_name[c]) for c in template.get('credential_types', [])
                                 if c in by_name))
        for question in spec:
            variable = question.get('variable')
            option = (options or {}).get(variable)
            if options is not None and option is None and variable not in template.get('extra_variables', []):
                problems.append('%s: %s is neither an option of role %s nor in extra_variables'
                                % (where, variable, template['role']))
            if variable in injected:
                problems.append('%s: %s is also injected by a credential' % (where, variable))
            problems.extend('%s: %s' % (where, p) for p in validate_question(question, option))
    return problems


def survey_extra_vars(template):
    """The survey defaults as AWX passes them, with unanswered questions (empty default) left out."""
    extra = {}
    for question in (template['survey_spec'] or {}).get('spec', []):
        default = question.get('default')
        if default not in ('', None, []):
            extra[question['variable']] = default
    return extra


def missing_answers(template, extra_vars):
    return [q['variable'] for q in (template['survey_spec'] or {}).get('spec', [])
            if q.get('required') and extra_vars.get(q['variable']) in ('', None, [])]


def find_template(templates, name):
    for template in templates:
        stem = os.path.splitext(os.path.basename(template['playbook']))[0]
        if name in (template['name'], stem):
            return template
    raise DefinitionError('no job template %r; there are: %s' % (name, ', '.join(t['name'] for t in templates)))


def load_mapping(path, what):
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise DefinitionError('%s holds no mapping of %s' % (path, what))
    return data


def parse_extra_vars(values):
    extra = {}
    for value in values:
        if value.startswith('@'):
            extra.update(load_mapping(value[1:], 'variables'))
        elif '=' in value:
            key, _sep, text = value.partition('=')
            extra[key] = yaml.safe_load(text) if text else ''
        else:
            extra.update(json.loads(value))
    return extra


def parse_environment(values):
    environment = {}
    for value in values:
        if value.startswith('@'):
            environment.update((str(key), str(text))
                               for key, text in load_mapping(value[1:], 'environment variables').items())
        elif '=' in value and IDENTIFIER.match(value.partition('=')[0]):
            key, _sep, text = value.partition('=')
            environment[key] = text
        else:
            raise DefinitionError('--env %r: expected NAME=VALUE or @FILE' % value)
    return environment


def run(template, inventory, extra_vars, mode, private_data_dir, environment=None):
    import ansible_runner  # only a run needs it; --list and --validate work without

    cmdline = {'syntax-check': '--syntax-check', 'check': '--check --diff', 'run': ''}[mode]
    envvars = {key: os.environ[key] for key in PASSED_ENVIRONMENT if key in os.environ}
    envvars.update(environment or {})
    result = ansible_runner.run(
        private_data_dir=private_data_dir, project_dir=ROOT, playbook=os.path.join(ROOT, template['playbook']),
        inventory=os.path.abspath(inventory) if inventory and os.path.exists(inventory) else inventory,
        extravars=extra_vars, cmdline=cmdline or None, envvars=envvars, process_isolation=False)
    print('job template %r: %s, rc %s' % (template['name'], result.status, result.rc))
    stats = result.stats or {}
    for host in sorted(set().union(*(stats.get(key) or {} for key in ('ok', 'failures', 'dark')))):
        print('  ' + host + ''.join(' %s=%s' % (key, (stats.get(key) or {}).get(host, 0))
                                    for key in ('ok', 'changed', 'failures', 'dark', 'skipped')))
    return result.rc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('template', nargs='?', help='job template name, or its playbook name without .yml')
    parser.add_argument('--list', action='store_true', help='list the job templates and their survey defaults')
    parser.add_argument('--validate', action='store_true', help='check every definition in awx/')
    parser.add_argument('-i', '--inventory', default='localhost,', help='inventory path or host list (localhost,)')
    parser.add_argument('-e', '--extra-vars', action='append', default=[],
                        help='VAR=VALUE, @FILE (YAML) or JSON, over the survey defaults; repeatable')
    parser.add_argument('--env', action='append', default=[], metavar='NAME=VALUE|@FILE',
                        help="environment of the run (AWX's Extra Environment Variables); @FILE is a YAML "
                             'mapping; repeatable')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--syntax-check', dest='mode', action='store_const', const='syntax-check')
    mode.add_argument('--check', dest='mode', action='store_const', const='check', help='check mode with --diff')
    parser.add_argument('--private-data-dir', help="ansible-runner's directory (artifacts); a temporary one by default")
    args = parser.parse_args(argv)
    try:
        if args.validate:
            problems = validate()
            for problem in problems:
                print(problem)
            print('%d problem(s) in %s' % (len(problems), AWX_DIR))
            return 1 if problems else 0
        _types, templates = load_definitions()
        if args.list:
            for template in templates:
                present = os.path.exists(os.path.join(ROOT, template['playbook']))
                print('%s: %s%s\n  %s' % (template['name'], template['playbook'], '' if present else ' (not written yet)',
                                          json.dumps(survey_extra_vars(template), sort_keys=True)))
            return 0
        if not args.template:
            parser.error('name a job template, or give --list or --validate')
        template = find_template(templates, args.template)
        if not os.path.exists(os.path.join(ROOT, template['playbook'])):
            raise DefinitionError('%s does not exist yet' % template['playbook'])
        extra_vars = survey_extra_vars(template)
        extra_vars.update(parse_extra_vars(args.extra_vars))
        environment = parse_environment(args.env)
        missing = missing_answers(template, extra_vars)
        if missing and args.mode != 'syntax-check':
            raise DefinitionError('the survey asks %s with no default: answer with -e VAR=VALUE' % ', '.join(missing))
    except (DefinitionError, ValueError, KeyError) as exc:
        parser.exit(2, 'run_job_template: %s\n' % exc)
    if args.private_data_dir:
        os.makedirs(args.private_data_dir, exist_ok=True)
        return run(template, args.inventory, extra_vars, args.mode or 'run', args.private_data_dir, environment)
    with tempfile.TemporaryDirectory(prefix='run_job_template.') as private_data_dir:
        return run(template, args.inventory, extra_vars, args.mode or 'run', private_data_dir, environment)


if __name__ == '__main__':
    sys.exit(main())
