#!/usr/bin/env python3
"""Checker for /work/corpus/part-c.jsonl."""
import json, re, sys, datetime as dt
from collections import Counter

PATH = sys.argv[1] if len(sys.argv) > 1 else '/work/corpus/part-c.jsonl'
TYPES = {'person','organization','location','product','event','occupation','quantity','date','url','email','other'}
DOMAINS = {'art and museums','literature and books','business news and startups','banking and investing',
           'climate and weather','aviation and airlines','chemistry','architecture','video games','parenting','mental health'}
STYLES = {'plain','lowercase','typos','terse','long','list','formal','chatty','non-english-names','mixed'}
DAYS = ['monday','tuesday','wednesday','thursday','friday','saturday','sunday']
WORDS = {'a':1,'an':1,'one':1,'two':2,'three':3,'four':4,'five':5,'six':6,'seven':7,'eight':8,'nine':9,'ten':10,'eleven':11,'twelve':12}
# names in which 's is part of the proper name, not a possessive
INTRINSIC_S = {"Sotheby's", "Christie's", "McDonald's", "Joe's Shanghai", "Moody's", "Sainsbury's", "Macy's", "Land's End", "Bojangles'", "Dunkin'", "St Thomas'", "Lloyd's", "Lloyd's of London", "Wendy's", "Denny's", "Harrod's", "Kellogg's", "Tiffany's"}
# a final '.' is allowed when it belongs to an abbreviation that is part of the name
ABBREV_END = re.compile(r'(\b[A-Z]\.|\b(?:Bros|Inc|Co|Jr|Ltd|St|Corp)\.)$')
DATE_RE = re.compile(r'^\d{4}(-\d{2}(-\d{2})?)?$')

def n(s):
    return int(s) if s.isdigit() else WORDS.get(s)

def shift_month(d, k):
    m = d.year * 12 + (d.month - 1) + k
    return '%04d-%02d' % (m // 12, m % 12 + 1)

def expected(text, today):
    """Expected value for common relative forms, or None if not a checked form."""
    t = text.lower().strip()
    if t == 'today': return today.isoformat()
    if t == 'yesterday': return (today - dt.timedelta(days=1)).isoformat()
    if t == 'tomorrow': return (today + dt.timedelta(days=1)).isoformat()
    m = re.fullmatch(r'(\w+) (day|week)s? ago', t)
    if m and n(m.group(1)):
        k = n(m.group(1)) * (7 if m.group(2) == 'week' else 1)
        return (today - dt.timedelta(days=k)).isoformat()
    m = re.fullmatch(r'in (\w+) (day|week)s?', t)
    if m and n(m.group(1)):
        k = n(m.group(1)) * (7 if m.group(2) == 'week' else 1)
        return (today + dt.timedelta(days=k)).isoformat()
    m = re.fullmatch(r'(last|next) (\w+)', t)
    if m and m.group(2) in DAYS:
        w = DAYS.index(m.group(2))
        for k in range(1, 8):
            d = today + dt.timedelta(days=-k if m.group(1) == 'last' else k)
            if d.weekday() == w:
                return d.isoformat()
    m = re.fullmatch(r'(?:on |this )(\w+)', t)
    if m and m.group(1) in DAYS:   # future intended
        w = DAYS.index(m.group(1))
        for k in range(0, 7):
            d = today + dt.timedelta(days=k)
            if d.weekday() == w:
                return d.isoformat()
    if t == 'this month': return shift_month(today, 0)
    if t == 'last month': return shift_month(today, -1)
    if t == 'next month': return shift_month(today, 1)
    if t == 'this year': return str(today.year)
    if t == 'last year': return str(today.year - 1)
    if t == 'next year': return str(today.year + 1)
    m = re.fullmatch(r'(\w+) years? ago', t)
    if m and n(m.group(1)): return str(today.year - n(m.group(1)))
    return None

def main():
    errors = []
    tc = Counter(); nrel = 0; ndates = 0; nturns = 0
    dom = Counter(); sty = Counter(); ids = []
    stats = Counter()
    with open(PATH, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '': lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        def err(msg):
            errors.append('line %d (%s): %s' % (ln, ids[-1] if ids else '?', msg))
        if not line.strip():
            errors.append('line %d: blank line' % ln); continue
        try:
            o = json.loads(line)
        except Exception as e:
            errors.append('line %d: bad JSON %s' % (ln, e)); continue
        nturns += 1
        ids.append(o.get('id'))
        if o.get('id') != 'c-%04d' % nturns: err('bad/unsequential id %r' % o.get('id'))
        for k in ('domain','style','time','question','answer','entities','dates','relations'):
            if k not in o: err('missing field ' + k)
        if o.get('domain') not in DOMAINS: err('bad domain %r' % o.get('domain'))
        if o.get('style') not in STYLES: err('bad style %r' % o.get('style'))
        dom[o.get('domain')] += 1; sty[o.get('style')] += 1
        try:
            ts = dt.datetime.strptime(o['time'], '%Y-%m-%dT%H:%M:%SZ')
            if not (dt.datetime(2023,1,1) <= ts <= dt.datetime(2026,11,30,23,59,59)):
                err('time out of range')
            today = ts.date()
        except Exception:
            err('bad time %r' % o.get('time')); today = None
        text = o.get('question','') + '\n' + o.get('answer','')
        names = set(); seen = set()
        datevals = set()
        for e in o.get('entities', []):
            nm, ty = e.get('name'), e.get('type')
            if ty not in TYPES: err('bad type %r for %r' % (ty, nm))
            tc[ty] += 1
            if (nm, ty) in seen or nm in names: err('duplicate entity %r' % nm)
            seen.add((nm, ty)); names.add(nm)
            if not nm or nm != nm.strip(): err('empty/whitespace name %r' % nm)
            if ty == 'date':
                if not DATE_RE.match(nm): err('bad date value %r' % nm)
                datevals.add(nm)
                continue
            if nm not in o.get('question','') and nm not in o.get('answer',''):
                err('entity not verbatim: %r' % nm)
            if re.match(r'(?i)^(the|a|an) ', nm) and not nm.startswith('The '):
                err('leading article: %r' % nm)
            if (nm.endswith("'s") or nm.endswith('’s')) and nm not in INTRINSIC_S: err('possessive: %r' % nm)
            if nm[-1] in '.,;:!?' and not ABBREV_END.search(nm):
                err('trailing punctuation: %r' % nm)
            if re.match(r'^(Dr|Mr|Mrs|Ms|Prof)\.? ', nm): err('title in name: %r' % nm)
        dvals_in_dates = set()
        for d in o.get('dates', []):
            ndates += 1
            t, v = d.get('text'), d.get('value')
            dvals_in_dates.add(v)
            if t not in text: err('date text not verbatim: %r' % t)
            if v not in datevals: err('dates value %r has no date entity' % v)
            if not DATE_RE.match(v or ''): err('bad dates value %r' % v)
            if today:
                exp = expected(t, today)
                if exp is not None and exp != v:
                    err('relative date %r resolves to %s, labelled %s' % (t, exp, v))
                if exp is not None: stats['relative'] += 1
        for v in datevals - dvals_in_dates:
            err('date entity %r has no dates entry' % v)
        if any(expected(d['text'], today or dt.date(2000,1,1)) is not None for d in o.get('dates', [])):
            stats['turns_with_checked_relative'] += 1
        for r in o.get('relations', []):
            nrel += 1
            for k in ('source','target'):
                if r.get(k) not in names: err('relation %s %r not an entity' % (k, r.get(k)))
            if not re.fullmatch(r'[a-z]+(_[a-z]+)*', r.get('relation','')):
                err('relation name not snake_case: %r' % r.get('relation'))
            if r.get('source') == r.get('target'): err('self relation %r' % r)
        if not o.get('entities'): stats['no_entities'] += 1
    for e in errors: print('ERROR', e)
    print('turns:', nturns)
    print('entity types:', dict(sorted(tc.items(), key=lambda x: -x[1])))
    print('entities total:', sum(tc.values()), ' relations:', nrel, ' dates entries:', ndates)
    print('domains:', dict(dom))
    print('styles:', dict(sty))
    print('stats:', dict(stats))
    print('errors:', len(errors))
    return 1 if errors else 0

if __name__ == '__main__':
    sys.exit(main())
