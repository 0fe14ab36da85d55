#!/usr/bin/env python3
"""Checker for /work/corpus/part-a.jsonl (labelled Q/A extraction corpus)."""
import json, re, sys, datetime as dt
from collections import Counter

PATH = sys.argv[1] if len(sys.argv) > 1 else "/work/corpus/part-a.jsonl"
TYPES = {"person", "organization", "location", "product", "event", "occupation",
         "quantity", "date", "url", "email", "other"}
STYLES = {"plain", "lowercase", "typos", "terse", "long", "list", "formal", "chatty",
          "non-english-names", "mixed"}
WD = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMW = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
        "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MON_RE = "(" + "|".join(m for m in MONTHS) + "|" + "|".join(m[:3] for m in MONTHS) + r")\.?"
DATE_VAL = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
errors, warnings = [], []
# names whose trailing 's belongs to the name itself
POSSESSIVE_NAMES = {"Moody's", "Standard & Poor's", "McDonald's", "Sainsbury's", "Macy's", "Lloyd's",
                    "Grevy's zebra", "St Mary's Hospital", "Joe's Shanghai", "Nando's", "Trader Joe's"}

def err(i, msg): errors.append(f"{i}: {msg}")
def warn(i, msg): warnings.append(f"{i}: {msg}")

def add_months(d, k):
    m = d.month - 1 + k
    return f"{d.year + m // 12:04d}-{m % 12 + 1:02d}"

def resolve_relative(text, today):
    """Expected value for common relative forms, None if not a known relative form."""
    t = text.lower().strip()
    if t == "today": return today.isoformat()
    if t == "yesterday": return (today - dt.timedelta(days=1)).isoformat()
    if t == "tomorrow": return (today + dt.timedelta(days=1)).isoformat()
    if t in ("the day before yesterday",): return (today - dt.timedelta(days=2)).isoformat()
    if t in ("the day after tomorrow",): return (today + dt.timedelta(days=2)).isoformat()
    m = re.fullmatch(r"(\d+|\w+) (day|days|week|weeks|year|years|month|months) ago", t)
    if m and (m.group(1).isdigit() or m.group(1) in NUMW):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMW[m.group(1)]
        u = m.group(2)
        if u.startswith("day"): return (today - dt.timedelta(days=n)).isoformat()
        if u.startswith("week"): return (today - dt.timedelta(days=7 * n)).isoformat()
        if u.startswith("year"): return f"{today.year - n:04d}"
        if u.startswith("month"): return add_months(today, -n)
    m = re.fullmatch(r"in (\d+|\w+) (day|days|week|weeks|year|years|month|months)(' time| time)?", t)
    if m and (m.group(1).isdigit() or m.group(1) in NUMW):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMW[m.group(1)]
        u = m.group(2)
        if u.startswith("day"): return (today + dt.timedelta(days=n)).isoformat()
        if u.startswith("week"): return (today + dt.timedelta(days=7 * n)).isoformat()
        if u.startswith("year"): return f"{today.year + n:04d}"
        if u.startswith("month"): return add_months(today, n)
    m = re.fullmatch(r"(last|next|this|on|coming|this coming) (\w+)", t)
    if m and m.group(2) in WD:
        w = WD.index(m.group(2)); k = m.group(1)
        if k == "last":
            delta = (today.weekday() - w) % 7 or 7
            return (today - dt.timedelta(days=delta)).isoformat()
        if k == "next":
            delta = (w - today.weekday()) % 7 or 7
            return (today + dt.timedelta(days=delta)).isoformat()
        delta = (w - today.weekday()) % 7
        return (today + dt.timedelta(days=delta)).isoformat()
    if t in WD:  # bare weekday is used for past-tense mentions ("I went on Monday")
        delta = (today.weekday() - WD.index(t)) % 7 or 7
        return (today - dt.timedelta(days=delta)).isoformat()
    if t in ("last month",): return add_months(today, -1)
    if t in ("next month",): return add_months(today, 1)
    if t in ("this month",): return add_months(today, 0)
    if t in ("last year",): return f"{today.year - 1:04d}"
    if t in ("next year",): return f"{today.year + 1:04d}"
    if t in ("this year",): return f"{today.year:04d}"
    return None

def resolve_absolute(text):
    """Expected value for common absolute forms, None if unknown."""
    t = text.strip().rstrip(".,").lower()
    t = re.sub(r"^(on|in|since|from|by) ", "", t)
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)
    def mon(s): s = s.rstrip("."); return next(i + 1 for i, m in enumerate(MONTHS) if m.startswith(s[:3]))
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t)
    if m: return t
    m = re.fullmatch(r"(\d{4})-(\d{2})", t)
    if m: return t
    m = re.fullmatch(r"(\d{4})", t)
    if m: return t
    m = re.fullmatch(r"(?:ad )?(\d{1,4})(?: ad)?", t)
    if m and ("ad" in t): return f"{int(m.group(1)):04d}"
    m = re.fullmatch(r"(\d{1,2}) " + MON_RE + r",? (\d{4})", t)
    if m: return f"{int(m.group(3)):04d}-{mon(m.group(2)):02d}-{int(m.group(1)):02d}"
    m = re.fullmatch(MON_RE + r" (\d{1,2}),? (\d{4})", t)
    if m: return f"{int(m.group(3)):04d}-{mon(m.group(1)):02d}-{int(m.group(2)):02d}"
    m = re.fullmatch(MON_RE + r",? (\d{4})", t)
    if m: return f"{int(m.group(2)):04d}-{mon(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", t)
    if m: return None  # ambiguous d/m vs m/d
    m = re.fullmatch(r"(\d{1,2})[–-](\d{1,2}) " + MON_RE + r",? (\d{4})", t)
    if m: return (f"{int(m.group(4)):04d}-{mon(m.group(3)):02d}-{int(m.group(1)):02d}",
                  f"{int(m.group(4)):04d}-{mon(m.group(3)):02d}-{int(m.group(2)):02d}")
    return None

def check_yearless(text, val):
    """Day/month given without a year (year comes from context): check month and day only."""
    t = text.strip().lower()
    t = re.sub(r"^(on|in|since|from|by) ", "", t)
    def mon(s): s = s.rstrip("."); return next(i + 1 for i, m in enumerate(MONTHS) if m.startswith(s[:3]))
    m = re.fullmatch(r"(\d{1,2}) " + MON_RE, t) or None
    if m: return val[5:] == f"{mon(m.group(2)):02d}-{int(m.group(1)):02d}"
    m = re.fullmatch(MON_RE + r" (\d{1,2})", t)
    if m: return val[5:] == f"{mon(m.group(1)):02d}-{int(m.group(2)):02d}"
    m = re.fullmatch(MON_RE, t)
    if m: return len(val) == 7 and val[5:] == f"{mon(m.group(1)):02d}"
    m = re.fullmatch(r"'?(\d{2})", t)
    if m: return len(val) == 4 and val[2:] == m.group(1)
    return None

REL_WORDS = re.compile(r"\b(yesterday|tomorrow|today|(?:last|next) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|month|year)|\w+ days ago|\w+ weeks ago)\b", re.I)
NOT_DATES = {"last week", "next week", "this week", "next weekend", "last weekend", "this weekend",
             "recently", "soon", "last summer", "next summer", "last winter", "this spring"}

def main():
    n = 0
    tc, sc, dc = Counter(), Counter(), Counter()
    nrel = ndates = noent = rel_turns = abs_turns = 0
    ids = []
    with open(PATH, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "": lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            err(f"line {ln}", "blank line"); continue
        try:
            o = json.loads(line)
        except Exception as e:
            err(f"line {ln}", f"bad JSON: {e}"); continue
        n += 1
        i = o.get("id", f"line {ln}")
        for k in ("id", "domain", "style", "time", "question", "answer", "entities", "dates", "relations"):
            if k not in o: err(i, f"missing field {k}")
        if set(o) - {"id", "domain", "style", "time", "question", "answer", "entities", "dates", "relations"}:
            err(i, f"extra fields {set(o)}")
        if i != f"a-{n:04d}": err(i, f"id out of sequence, expected a-{n:04d}")
        ids.append(i)
        if o["style"] not in STYLES: err(i, f"unknown style {o['style']}")
        sc[o["style"]] += 1; dc[o["domain"]] += 1
        try:
            ts = dt.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%SZ")
            if not (dt.datetime(2023, 1, 1) <= ts <= dt.datetime(2026, 11, 30, 23, 59, 59)):
                err(i, "time out of range")
            today = ts.date()
        except Exception:
            err(i, f"bad time {o['time']}"); today = None
        text = o["question"] + "\n" + o["answer"]
        names = set()
        date_names = set()
        if not o["entities"]: noent += 1
        for e in o["entities"]:
            nm, ty = e.get("name"), e.get("type")
            if ty not in TYPES: err(i, f"bad type {ty} for {nm}")
            if nm in names: err(i, f"duplicate entity {nm}")
            names.add(nm); tc[ty] += 1
            if ty == "date":
                date_names.add(nm)
                if not DATE_VAL.match(nm): err(i, f"bad date value {nm}")
                continue
            if nm not in o["question"] and nm not in o["answer"]:
                err(i, f"entity not verbatim: {nm!r}")
            if nm != nm.strip() or re.search(r"[.,;:!?]$", nm) and not nm.endswith((".com", "Inc.", "Jr.")):
                if nm != nm.strip() or nm[-1] in ",;:!?" or (nm.endswith(".") and ty != "organization"):
                    err(i, f"leading/trailing junk: {nm!r}")
            if re.match(r"(?i)^(the|a|an) ", nm) and ty not in ("other", "organization"):
                warn(i, f"leading article: {nm!r}")
            if (nm.endswith("'s") or nm.endswith("’s")) and nm not in POSSESSIVE_NAMES:
                err(i, f"possessive: {nm!r} (add to POSSESSIVE_NAMES if the 's is part of the name)")
            if re.match(r"^(Dr|Mr|Mrs|Ms|Prof)\.? ", nm): err(i, f"title in name: {nm!r}")
            if ty == "quantity" and not re.search(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand|half|dozen)\b", nm, re.I):
                warn(i, f"quantity without number: {nm!r}")
        # dates
        seen_vals = set()
        has_rel = has_abs = False
        for d in o["dates"]:
            txt, val = d.get("text"), d.get("value")
            ndates += 1
            if txt not in o["question"] and txt not in o["answer"]:
                err(i, f"date text not verbatim: {txt!r}")
            if val not in date_names: err(i, f"date value {val} has no date entity")
            if not DATE_VAL.match(val or ""): err(i, f"bad date value {val}")
            seen_vals.add(val)
            if txt.lower() in NOT_DATES: err(i, f"labelled a non-date: {txt!r}")
            if today:
                exp = resolve_relative(txt, today)
                if exp is not None:
                    has_rel = True
                    if exp != val: err(i, f"relative date {txt!r} -> {val}, expected {exp} (today {today} {WD[today.weekday()]})")
                else:
                    exp = resolve_absolute(txt)
                    yl = check_yearless(txt, val) if exp is None else None
                    if isinstance(exp, tuple):
                        has_abs = True
                        if val not in exp: err(i, f"absolute date range {txt!r} -> {val}, expected one of {exp}")
                    elif exp is not None:
                        has_abs = True
                        if exp != val: err(i, f"absolute date {txt!r} -> {val}, expected {exp}")
                    elif yl is not None:
                        has_abs = True
                        if not yl: err(i, f"date {txt!r} -> {val}: month/day do not match")
                        elif abs(int(val[:4]) - today.year) > 1 and not re.fullmatch(r"'?\d{2}", txt.strip()):
                            warn(i, f"yearless date {txt!r} resolved to {val}, far from turn year (check context)")
                    else:
                        warn(i, f"unchecked date form {txt!r} -> {val}")
                        if re.search(r"\b\d{4}\b", txt): has_abs = True
                        else: has_rel = True
        for dn in date_names - seen_vals: err(i, f"date entity {dn} has no dates entry")
        rel_turns += has_rel; abs_turns += has_abs
        # unlabelled relative date words
        labelled_txt = " ".join(d["text"].lower() for d in o["dates"])
        for m in REL_WORDS.finditer(text):
            if text[m.end():m.end() + 2] in ("'s", "’s"):
                continue  # "today's Istanbul" means nowadays, not a calendar day
            if m.group(0).lower() not in labelled_txt and m.group(0).lower() not in NOT_DATES:
                warn(i, f"relative phrase not labelled: {m.group(0)!r}")
        for r in o["relations"]:
            nrel += 1
            s, rel, t = r.get("source"), r.get("relation"), r.get("target")
            if s not in names: err(i, f"relation source not an entity: {s!r}")
            if t not in names: err(i, f"relation target not an entity: {t!r}")
            if not re.fullmatch(r"[a-z]+(_[a-z]+)*", rel or ""): err(i, f"relation not snake_case: {rel!r}")
            if s == t: err(i, f"self relation {s}")
        if len({(r["source"], r["relation"], r["target"]) for r in o["relations"]}) != len(o["relations"]):
            err(i, "duplicate relation")
    print(f"turns: {n}")
    print("domains:", dict(dc))
    print("styles:", dict(sc))
    print("entity types:", dict(sorted(tc.items(), key=lambda x: -x[1])), "total", sum(tc.values()))
    print(f"relations: {nrel}  date entries: {ndates}  turns with relative dates: {rel_turns}  with absolute dates: {abs_turns}  with no entities: {noent}")
    for w in warnings: print("WARN", w)
    for e in errors: print("ERROR", e)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    sys.exit(1 if errors else 0)

if __name__ == "__main__":
    main()
