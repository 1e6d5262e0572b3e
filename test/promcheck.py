#!/usr/bin/env python3
"""promcheck FILE: check that FILE is valid Prometheus text exposition
format 0.0.4, strictly, and print every sample as "name{labels} value"
with labels sorted, one a line.  Exit 1 with "line N: why" otherwise.

Checked: every line is a # HELP, a # TYPE, another comment, or a sample;
names and label names are legal; label values are quoted with only \\\\,
\\" and \\n escapes; values are floats (or +Inf, -Inf, NaN); a metric's
TYPE and HELP come once, before its samples; a metric's samples are
together; counters are not negative; histograms have le buckets that
rise, end with +Inf equal to _count, and a _sum."""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(r'^(%s)(\{(?:%s=%s(?:,%s=%s)*,?)?\})? (\S+)( -?[0-9]+)?$'
                    % (NAME, LABEL, VALUE, LABEL, VALUE))
LABELS = re.compile(r'(%s)=(%s)' % (LABEL, VALUE))
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


def fail(n, why):
    print('line %d: %s' % (n, why))
    sys.exit(1)


def number(s):
    if s in ('+Inf', '-Inf', 'NaN'):
        return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))
    if not re.match(r'^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$', s):
        raise ValueError(s)
    return float(s)


def family(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ('histogram',
                                                         'summary'):
            return base
    return name


def main():
    types, helps, done, out = {}, set(), set(), []
    current = None
    hist = {}
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    if text and not text.endswith('\n'):
        fail(text.count('\n') + 1, 'no newline at the end')
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s)(?: (.*))?$' % NAME, line)
            if not m:
                continue
            kind, name, rest = m.groups()
            if name in done or name == current and kind == 'TYPE' and \
                    name in types:
                fail(n, '%s for %s after its samples' % (kind, name))
            if kind == 'HELP':
                if name in helps:
                    fail(n, 'second HELP for ' + name)
                helps.add(name)
            else:
                if name in types:
                    fail(n, 'second TYPE for ' + name)
                if rest not in TYPES:
                    fail(n, 'bad type %r' % rest)
                types[name] = rest
            continue
        if line == '':
            continue
        m = SAMPLE.match(line)
        if not m:
            fail(n, 'not a sample: %r' % line)
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        try:
            v = number(value)
        except ValueError:
            fail(n, 'bad value %r' % value)
        fam = family(name, types)
        if fam != current:
            if fam in done:
                fail(n, 'samples of %s are not together' % fam)
            if current is not None:
                done.add(current)
            current = fam
        pairs = sorted(LABELS.findall(labels))
        if len({k for k, _ in pairs}) != len(pairs):
            fail(n, 'a label twice')
        t = types.get(fam, 'untyped')
        if t == 'counter' and (v < 0 or math.isnan(v)):
            fail(n, 'negative counter')
        if t == 'histogram':
            rest = tuple(p for p in pairs if p[0] != 'le')
            h = hist.setdefault((fam, rest), {'le': [], 'sum': None,
                                              'count': None})
            if name == fam + '_bucket':
                le = [x for k, x in pairs if k == 'le']
                if not le:
                    fail(n, 'bucket without le')
                bound = number(le[0].strip('"'))
                if h['le'] and (bound <= h['le'][-1][0] or
                                v < h['le'][-1][1]):
                    fail(n, 'buckets do not rise')
                h['le'].append((bound, v))
            elif name == fam + '_sum':
                h['sum'] = v
            elif name == fam + '_count':
                h['count'] = v
            else:
                fail(n, 'stray sample in histogram ' + fam)
        out.append('%s{%s} %s' % (name, ','.join('%s=%s' % p for p in pairs),
                                  value))
    for (fam, _), h in hist.items():
        if not h['le'] or h['le'][-1][0] != math.inf:
            fail(0, fam + ': no +Inf bucket')
        if h['count'] != h['le'][-1][1] or h['sum'] is None:
            fail(0, fam + ': _count differs from +Inf, or no _sum')
    print('\n'.join(out))


main()
