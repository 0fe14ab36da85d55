#!/usr/bin/env python3
"""Checker for /work/corpus/part-d.jsonl (labelled Q/A turns)."""
import json, re, sys, datetime as dt
from collections import Counter

PATH = sys.argv[1] if len(sys.argv) > 1 else "/work/corpus/part-d.jsonl"
TYPES = {"person", "organization", "location", "product", "event", "occupation",
         "quantity", "date", "url", "email", "other"}
STYLES = {"plain", "lowercase", "typos", "terse", "long", "list", "formal", "chatty",
          "non-english-names", "mixed"}
DOMAINS = {"geography and countries", "religion and festivals", "fashion and retail",
           "agriculture and farming", "cybersecurity", "telecommunications", "nutrition and diet",
           "wine, beer and food culture", "public transport and cities", "insurance",
           "hardware and electronics"}
WD = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
       "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
ARTICLE_OK = {"A Coruña"}  # names where the article is part of the proper name
POSSESSIVE_OK = {"Denny's"}  # proper names that really end in 's
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

errors = []
def err(tid, msg):
    errors.append(f"{tid}: {msg}")

def num(s):
    s = s.lower()
    return int(s) if s.isdigit() else NUM.get(s)

def expected(text, today):
    """Return (kind, value) for a relative expression, or None if not a checked form.
    kind 'exact' -> value must equal; kind 'weekday' -> loose check (bare weekday)."""
    t = text.lower().strip()
    t = re.sub(r"^on ", "", t)
    if t == "today": return "exact", today.isoformat()
    if t == "yesterday": return "exact", (today - dt.timedelta(1)).isoformat()
    if t == "tomorrow": return "exact", (today + dt.timedelta(1)).isoformat()
    if t == "the day before yesterday": return "exact", (today - dt.timedelta(2)).isoformat()
    if t == "the day after tomorrow": return "exact", (today + dt.timedelta(2)).isoformat()
    m = re.fullmatch(r"(\w+) (day|days|week|weeks) ago", t)
    if m and num(m.group(1)):
        n = num(m.group(1)) * (7 if m.group(2).startswith("week") else 1)
        return "exact", (today - dt.timedelta(n)).isoformat()
    m = re.fullmatch(r"in (\w+) (day|days|week|weeks)", t)
    if m and num(m.group(1)):
        n = num(m.group(1)) * (7 if m.group(2).startswith("week") else 1)
        return "exact", (today + dt.timedelta(n)).isoformat()
    m = re.fullmatch(r"(last|next|this) (\w+)", t)
    if m:
        which, w = m.groups()
        if w in WD:
            k = WD.index(w)
            if which == "last":
                d = today - dt.timedelta(1)
                while d.weekday() != k: d -= dt.timedelta(1)
            elif which == "next":
                d = today + dt.timedelta(1)
                while d.weekday() != k: d += dt.timedelta(1)
            else:
                d = today
                while d.weekday() != k: d += dt.timedelta(1)
            return "exact", d.isoformat()
        if w == "month":
            y, mo = today.year, today.month + {"last": -1, "next": 1, "this": 0}[which]
            if mo == 0: y, mo = y - 1, 12
            if mo == 13: y, mo = y + 1, 1
            return "exact", f"{y:04d}-{mo:02d}"
        if w == "year":
            return "exact", f"{today.year + {'last': -1, 'next': 1, 'this': 0}[which]:04d}"
    m = re.fullmatch(r"(\w+) years? ago", t)
    if m and num(m.group(1)):
        return "exact", f"{today.year - num(m.group(1)):04d}"
    m = re.fullmatch(r"(a|one) year ago", t)
    if m: return "exact", f"{today.year - 1:04d}"
    if t in WD:
        return "weekday", WD.index(t)
    return None

def valid_date(v):
    if not DATE_RE.match(v): return False
    parts = [int(x) for x in v.split("-")]
    try:
        if len(parts) == 3: dt.date(*parts)
        elif len(parts) == 2: dt.date(parts[0], parts[1], 1)
        return True
    except ValueError:
        return False

type_counts = Counter(); n_rel = 0; n_dates = 0; n = 0
style_c = Counter(); dom_c = Counter(); no_ent = 0; with_rel_date = 0; with_abs_date = 0
seen_ids = set()
with open(PATH, encoding="utf-8") as fh:
    lines = fh.read().split("\n")
if lines and lines[-1] == "": lines = lines[:-1]
for ln, line in enumerate(lines, 1):
    if not line.strip():
        err(f"line {ln}", "blank line"); continue
    try:
        o = json.loads(line)
    except Exception as e:
        err(f"line {ln}", f"bad JSON: {e}"); continue
    n += 1
    tid = o.get("id", f"line {ln}")
    for k in ["id", "domain", "style", "time", "question", "answer", "entities", "dates", "relations"]:
        if k not in o: err(tid, f"missing field {k}")
    if tid != f"d-{n:04d}": err(tid, f"id out of sequence (expected d-{n:04d})")
    if tid in seen_ids: err(tid, "duplicate id")
    seen_ids.add(tid)
    if o.get("domain") not in DOMAINS: err(tid, f"unknown domain {o.get('domain')}")
    if o.get("style") not in STYLES: err(tid, f"unknown style {o.get('style')}")
    style_c[o.get("style")] += 1; dom_c[o.get("domain")] += 1
    try:
        ts = dt.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%SZ")
        if not (dt.datetime(2023, 1, 1) <= ts <= dt.datetime(2026, 11, 30, 23, 59, 59)):
            err(tid, "time out of range")
        today = ts.date()
    except Exception:
        err(tid, f"bad time {o.get('time')}"); today = None
    text = o.get("question", "") + "\n" + o.get("answer", "")
    ents = o.get("entities", [])
    if not ents: no_ent += 1
    names = Counter(e["name"] for e in ents)
    for nm, c in names.items():
        if c > 1: err(tid, f"entity listed twice: {nm}")
    date_ents = set()
    for e in ents:
        nm, ty = e.get("name", ""), e.get("type")
        if ty not in TYPES: err(tid, f"bad type {ty} for {nm}")
        type_counts[ty] += 1
        if ty == "date":
            date_ents.add(nm)
            if not valid_date(nm): err(tid, f"bad date value {nm}")
            continue
        if nm not in text: err(tid, f"entity not verbatim in text: {nm!r}")
        if nm != nm.strip(): err(tid, f"entity has surrounding spaces: {nm!r}")
        if re.match(r"(?i)^(the|a|an) ", nm) and ty not in ("quantity",) and nm not in ARTICLE_OK:
            err(tid, f"entity starts with article: {nm!r}")
        if re.search(r"[.,;:!?]$", nm) and not re.search(r"(\b\w{1,3}\.)$", nm):
            err(tid, f"entity ends with punctuation: {nm!r}")
        if re.search(r"['’]s$", nm) and ty != "quantity" and nm not in POSSESSIVE_OK:
            err(tid, f"entity ends with possessive: {nm!r}")
        if re.match(r"^(Dr|Mr|Mrs|Ms|Prof)\.? ", nm): err(tid, f"entity has title: {nm!r}")
    dvals = set()
    has_rel = has_abs = False
    for d in o.get("dates", []):
        n_dates += 1
        dtext, val = d.get("text", ""), d.get("value", "")
        dvals.add(val)
        if dtext not in text: err(tid, f"date text not verbatim: {dtext!r}")
        if val not in date_ents: err(tid, f"date value {val} has no date entity")
        if not valid_date(val): err(tid, f"bad date value {val}")
        if today is None: continue
        exp = expected(dtext, today)
        if exp is None:
            if re.search(r"\d{4}", dtext): has_abs = True
            elif re.search(r"(?i)(ago|last|next|this|yesterday|tomorrow|today|in \w+ (days|weeks))", dtext):
                has_rel = True
            else:
                has_abs = True  # month/day names resolved from context
            continue
        has_rel = True
        kind, v = exp
        if kind == "exact" and val != v:
            err(tid, f"relative date {dtext!r} -> expected {v}, got {val}")
        if kind == "weekday":
            try:
                dv = dt.date.fromisoformat(val)
                if dv.weekday() != v or abs((dv - today).days) > 7 or dv == today:
                    err(tid, f"bare weekday {dtext!r} -> {val} is not a nearby {WD[v]}")
            except ValueError:
                err(tid, f"bare weekday {dtext!r} has non-day value {val}")
    with_rel_date += has_rel; with_abs_date += has_abs
    for v in date_ents - dvals: err(tid, f"date entity {v} has no dates entry")
    all_names = set(names)
    for r in o.get("relations", []):
        n_rel += 1
        s, rel, t = r.get("source"), r.get("relation", ""), r.get("target")
        if s not in all_names: err(tid, f"relation source not an entity: {s!r}")
        if t not in all_names: err(tid, f"relation target not an entity: {t!r}")
        if not SNAKE.match(rel): err(tid, f"relation not snake_case: {rel!r}")
        if s == t: err(tid, f"self relation {s}")

print(f"turns: {n}")
print("entities by type:", dict(sorted(type_counts.items(), key=lambda x: -x[1])))
print(f"entities total: {sum(type_counts.values())}; relations: {n_rel}; date entries: {n_dates}")
print(f"turns with no entities: {no_ent}; with relative date: {with_rel_date}; with absolute/other date: {with_abs_date}")
print("styles:", dict(style_c))
print("domains:", dict(dom_c))
if errors:
    print(f"\n{len(errors)} ERRORS:")
    for e in errors: print("  " + e)
    sys.exit(1)
print("\nOK: no errors")
