"""Checks the upgrade report of playbook.yml: the JSON timeline, the page, and the page as headless Chromium renders it.

    python check_report.py REPORT_DIR SCREENSHOT_DIR

REPORT_DIR holds the callback's one .json/.html pair and merged.json/.html (the same run merged again with
the probe by the module's command line). Chromium's screenshot of the page is kept in SCREENSHOT_DIR. Without
a chromium on PATH the rendering check is skipped, saying so.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

NODES = ['node1', 'node2', 'node3']
# Client requests in flight when the flag goes can end a little after it.
SLACK = 1.0


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def of_class(self, name):
        return [a for _tag, a in self.tags if name in (a.get('class') or '').split()]


def check(condition, message):
    if not condition:
        raise SystemExit('check_report: ' + message)


def phases(entry):
    return [i['phase'] for i in entry['phases']]


def check_json(report):
    hosts = report['hosts']
    check(sorted(hosts) == NODES, 'lanes %s, expected %s (localhost must have none)' % (sorted(hosts), NODES))
    for name in ('node1', 'node2'):
        entry = hosts[name]
        check(phases(entry) == ['out_of_pool', 'upgrading', 'health_gate', 'back_in_pool'],
              '%s phases %s' % (name, phases(entry)))
        oop, upgrading, gate, back = entry['phases']
        check(oop['start'] <= upgrading['start'] <= gate['start'] <= back['start'] == oop['end'] <= back['end'],
              '%s phases out of order: %s' % (name, entry['phases']))
        check(not oop['open'] and not entry['failures'], '%s: %s' % (name, entry))
        check((entry['version_before'], entry['version_after']) == ('1.0.0', '2.0.0'), '%s versions %s -> %s'
              % (name, entry['version_before'], entry['version_after']))
        check(entry['lb_members'] == [['app', name]], '%s lb_members %s' % (name, entry['lb_members']))
        check(entry['lb_observed'], '%s: the probe saw no DRAIN interval' % name)
    node3 = hosts['node3']
    check(phases(node3) == ['out_of_pool', 'upgrading', 'health_gate'], 'node3 phases %s' % phases(node3))
    check(node3['phases'][0]['open'] and node3['phases'][2]['failed'], 'node3 must stay out of the pool, gate failed')
    check(len(node3['failures']) == 1 and node3['failures'][0]['phase'] == 'health_gate'
          and node3['failures'][0]['task'] == "Check the node's health verdict", 'node3 failures %s' % node3['failures'])
    check((node3['version_before'], node3['version_after']) == ('1.0.0', None), 'node3 versions')

    probe = report['probe']
    check(probe and probe['failures'] and probe['requests_failed'] == len(probe['failures']), 'probe %s' % probe)
    upgrading = hosts['node2']['phases'][1]
    for failure in probe['failures']:
        check(upgrading['start'] <= failure['t'] <= upgrading['end'] + SLACK,
              'request failed at %s, outside node2 upgrading %s..%s'
              % (failure['t'], upgrading['start'], upgrading['end']))
    run = report['runs'][0]
    check(run['playbook'] == 'playbook.yml' and run['stats']['node3']['rescued'] == 1, 'run %s' % run)


def check_page(text, report):
    page = Elements()
    page.feed(text)
    check(not any(tag == 'script' for tag, _a in page.tags), 'the page has a script')
    for tag, attrs in page.tags:
        for name in ('src', 'href', 'xlink:href'):
            value = attrs.get(name) or ''
            check(not value.startswith(('http:', 'https:', '//')), 'the page loads %s from outside' % value)
    check('@import' not in text and 'url(http' not in text, 'the style loads something from outside')
    check([a['data-host'] for a in page.of_class('lane')] == NODES, 'lanes of the page')
    check(len(page.of_class('request')) == len(report['probe']['failures']), 'failed requests drawn')
    check(len(page.of_class('failure')) == 1 and len(page.of_class('open')) == 1, 'failure and open interval drawn')
    return page


def render(html_path, screenshot_dir):
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if not chromium:
        print('check_report: SKIPPED the headless Chromium check: no chromium on PATH '
              '(Debian package chromium, tools/install-system-deps)')
        return
    profile = os.path.join(os.path.dirname(html_path), 'chromium-profile')
    base = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--user-data-dir=' + profile,
            '--no-first-run', '--window-size=1280,800']
    url = 'file://' + os.path.abspath(html_path)
    dom = subprocess.run(base + ['--dump-dom', url], capture_output=True, text=True, timeout=120, check=True).stdout
    rendered = Elements()
    rendered.feed(dom)
    check([a['data-host'] for a in rendered.of_class('lane')] == NODES,
          'Chromium rendered lanes %s' % [a.get('data-host') for a in rendered.of_class('lane')])
    check(any(tag == 'svg' for tag, _a in rendered.tags), 'Chromium rendered no SVG')
    os.makedirs(screenshot_dir, exist_ok=True)
    screenshot = os.path.join(screenshot_dir, 'upgrade_report.png')
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    subprocess.run(base + ['--screenshot=' + screenshot, url], capture_output=True, timeout=120, check=True)
    with open(screenshot, 'rb') as handle:
        png = handle.read()
    check(png.startswith(b'\x89PNG\r\n\x1a\n'), 'the screenshot is not a PNG')
    width, height = int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')
    check((width, height) == (1280, 800) and len(png) > 20000, 'screenshot %dx%d, %d bytes' % (width, height, len(png)))
    print('check_report: Chromium rendered %d lanes; screenshot %s' % (len(NODES), screenshot))


def main():
    report_dir, screenshot_dir = sys.argv[1:3]
    pages = sorted(p for p in glob.glob(os.path.join(report_dir, 'playbook-*.html')))
    check(len(pages) == 1, 'expected one report page in %s, found %s' % (report_dir, pages))
    for html_path in (pages[0], os.path.join(report_dir, 'merged.html')):
        with open(html_path[:-len('.html')] + '.json', encoding='utf-8') as handle:
            report = json.load(handle)
        check_json(report)
        with open(html_path, encoding='utf-8') as handle:
            check_page(handle.read(), report)
    render(pages[0], screenshot_dir)
    print('check_report: the report of %d nodes is right' % len(NODES))


if __name__ == '__main__':
    main()
