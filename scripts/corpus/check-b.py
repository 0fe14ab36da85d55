#!/usr/bin/env python3
"""Checker for /work/corpus/part-b.jsonl (labelled Q/A extraction corpus)."""
import json, re, sys, datetime as dt
from collections import Counter

PATH = sys.argv[1] if len(sys.argv) > 1 else "/work/corpus/part-b.jsonl"
TYPES = {"person", "organization", "location", "product", "event", "occupation",
         "quantity", "date", "url", "email", "other"}
DOMAINS = {"astronomy and space", "music and concerts", "film and television",
           "law and contracts", "real estate and housing", "automotive and car repair",
           "gardening", "pets and veterinary care", "education and university admissions",
           "politics and elections", "fitness and running"}
STYLES = {"plain", "lowercase", "typos", "terse", "long", "list", "formal", "chatty",
          "non-english-names", "mixed"}
WD = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
       "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june",
          "july", "august", "september", "october", "november", "december"])}
for k, v in list(MONTHS.items()):
    MONTHS[k[:3]] = v
MONTHS["sept"] = 9
NOT_DATES = ["last week", "next week", "this week", "next weekend", "last weekend", "recently",
             "soon", "tonight", "last night", "this weekend"]
# official names where "The" is part of the name (titles of works are type other and exempt)
ALLOW_THE = {"The New York Times", "The Guardian", "The Economist", "The Washington Post", "The Home Depot"}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def n(s):
    s = s.lower()
    return int(s) if s.isdigit() else NUM.get(s)


def resolve(text, today):
    """Expected value for common relative forms; None if not a recognised relative form."""
    t = text.lower().strip()
    t = re.sub(r"^(on|since|from|until|by|as of)\s+", "", t)
    if t == "today":
        return today.isoformat()
    if t == "yesterday":
        return (today - dt.timedelta(days=1)).isoformat()
    if t == "tomorrow":
        return (today + dt.timedelta(days=1)).isoformat()
    if t == "the day before yesterday":
        return (today - dt.timedelta(days=2)).isoformat()
    if t == "the day after tomorrow":
        return (today + dt.timedelta(days=2)).isoformat()
    m = re.fullmatch(r"(\w+) (day|week)s? ago", t)
    if m and n(m.group(1)):
        k = n(m.group(1)) * (7 if m.group(2) == "week" else 1)
        return (today - dt.timedelta(days=k)).isoformat()
    m = re.fullmatch(r"in (\w+) (day|week)s?", t)
    if m and n(m.group(1)):
        k = n(m.group(1)) * (7 if m.group(2) == "week" else 1)
        return (today + dt.timedelta(days=k)).isoformat()
    m = re.fullmatch(r"(last|next|this) (\w+)", t)
    if m and m.group(2) in WD:
        target = WD.index(m.group(2))
        if m.group(1) == "last":
            d = today - dt.timedelta(days=1)
            while d.weekday() != target:
                d -= dt.timedelta(days=1)
        elif m.group(1) == "next":
            d = today + dt.timedelta(days=1)
            while d.weekday() != target:
                d += dt.timedelta(days=1)
        else:
            d = today
            while d.weekday() != target:
                d += dt.timedelta(days=1)
        return d.isoformat()
    if m and m.group(2) == "month":
        y, mo = today.year, today.month
        if m.group(1) == "last":
            y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
        elif m.group(1) == "next":
            y, mo = (y, mo + 1) if mo < 12 else (y + 1, 1)
        return f"{y:04d}-{mo:02d}"
    if m and m.group(2) == "year":
        return str(today.year + {"last": -1, "next": 1, "this": 0}[m.group(1)])
    m = re.fullmatch(r"(\w+) years? ago", t)
    if m and n(m.group(1)):
        return str(today.year - n(m.group(1)))
    m = re.fullmatch(r"(\w+) months? ago", t)
    if m and n(m.group(1)):
        y, mo = today.year, today.month - n(m.group(1))
        while mo < 1:
            y, mo = y - 1, mo + 12
        return f"{y:04d}-{mo:02d}"
    return None


def absolute_ok(text, value):
    """Light consistency check of absolute date text vs value; returns error or None."""
    t = text.lower()
    years = re.findall(r"\b(1\d{3}|20\d{2})\b", t)
    if years and value[:4] not in years:
        return f"year in text {years} but value {value}"
    months = [MONTHS[w] for w in re.findall(r"[a-z]+", t) if w in MONTHS]
    if months and len(value) >= 7 and int(value[5:7]) not in months:
        return f"month in text {months} but value {value}"
    if months and len(value) == 4 and years:
        return f"text names a month but value {value} has only year precision"
    return None


def main():
    errors = []
    stats = Counter()
    ents_by_type = Counter()
    styles, domains = Counter(), Counter()
    n_rel = n_dates = 0
    rel_turns = abs_turns = noent = ev_turns = qty_turns = 0
    seen_ids = set()
    with open(PATH, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        def err(msg):
            errors.append(f"line {ln}: {msg}")
        if not line.strip():
            err("blank line")
            continue
        try:
            r = json.loads(line)
        except Exception as e:
            err(f"bad JSON: {e}")
            continue
        for k in ["id", "domain", "style", "time", "question", "answer", "entities", "dates", "relations"]:
            if k not in r:
                err(f"missing field {k}")
        if any(k not in r for k in ["id", "time", "question", "answer", "entities", "dates", "relations"]):
            continue
        exp_id = f"b-{ln:04d}"
        if r["id"] != exp_id:
            err(f"id {r['id']} expected {exp_id}")
        if r["id"] in seen_ids:
            err("duplicate id")
        seen_ids.add(r["id"])
        if r["domain"] not in DOMAINS:
            err(f"unknown domain {r['domain']}")
        if r["style"] not in STYLES:
            err(f"unknown style {r['style']}")
        domains[r["domain"]] += 1
        styles[r["style"]] += 1
        try:
            ts = dt.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            err(f"bad time {r['time']}")
            continue
        if not (dt.datetime(2023, 1, 1) <= ts <= dt.datetime(2026, 11, 30, 23, 59, 59)):
            err(f"time out of range {r['time']}")
        today = ts.date()
        q, a = r["question"], r["answer"]
        text = q + "\n" + a
        names = set()
        date_vals = set()
        for e in r["entities"]:
            nm, ty = e.get("name"), e.get("type")
            if ty not in TYPES:
                err(f"bad type {ty} for {nm}")
            if not nm or nm != nm.strip():
                err(f"empty/unstripped name {nm!r}")
            if nm in names:
                err(f"duplicate entity {nm}")
            names.add(nm)
            ents_by_type[ty] += 1
            if ty == "date":
                if not DATE_RE.match(nm):
                    err(f"date not normalised: {nm}")
                date_vals.add(nm)
            else:
                if nm not in q and nm not in a:
                    err(f"entity not verbatim: {nm!r}")
                if re.match(r"(?i)^(the|a|an) ", nm) and ty not in ("other",) and nm not in ALLOW_THE \
                        and not (ty == "quantity" and re.match(r"^(a|an) ", nm)):  # "a month" is a duration
                    err(f"leading article: {nm!r}")
                if (nm.endswith("'s") or nm.endswith("’s")) and ty not in ("other", "organization"):
                    err(f"possessive: {nm!r}")
                if nm[-1] in ",;:" or (nm[-1] in "!?" and ty != "other") or (nm.endswith(".") and not re.search(r"\b[A-Z][a-z]?\.$|\b(Inc|Ltd|Co|Jr|Sr|St|Corp|Bros)\.$", nm)):
                    err(f"trailing punctuation: {nm!r}")
                if re.match(r"^(Dr|Mr|Mrs|Ms|Prof|Sir)\.? ", nm):
                    err(f"title kept: {nm!r}")
        dvals_entries = set()
        for d in r["dates"]:
            n_dates += 1
            t, v = d.get("text"), d.get("value")
            if t is None or v is None:
                err(f"bad dates entry {d}")
                continue
            if t not in q and t not in a:
                err(f"date text not verbatim: {t!r}")
            if v not in date_vals:
                err(f"dates value {v} has no date entity")
            dvals_entries.add(v)
            if t.lower().strip() in NOT_DATES:
                err(f"labelled non-date phrase {t!r}")
            exp = resolve(t, today)
            if exp is not None:
                if exp != v:
                    err(f"relative date {t!r} at {today} should be {exp}, got {v}")
            elif re.fullmatch(r"(?i)(on |since )?(%s)" % "|".join(WD), t.strip()):
                # bare weekday: tense decides direction, so only check weekday and a +-7 day window
                wd = WD.index(t.strip().lower().split()[-1])
                try:
                    dv = dt.date.fromisoformat(v)
                    if dv.weekday() != wd or abs((dv - today).days) > 7 or dv == today:
                        err(f"weekday date {t!r} at {today} -> {v} is not the nearest such weekday")
                except ValueError:
                    err(f"weekday date {t!r} needs a YYYY-MM-DD value, got {v}")
            else:
                ae = absolute_ok(t, v)
                if ae:
                    err(f"date {t!r}: {ae}")
        for v in date_vals - dvals_entries:
            err(f"date entity {v} without dates entry")
        for rel in r["relations"]:
            s, rn, tg = rel.get("source"), rel.get("relation"), rel.get("target")
            n_rel += 1
            if s not in names:
                err(f"relation source not an entity: {s!r}")
            if tg not in names:
                err(f"relation target not an entity: {tg!r}")
            if not rn or not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", rn):
                err(f"relation not snake_case: {rn!r}")
            if s == tg:
                err(f"self relation {s}")
        # stats
        if any(resolve(d["text"], today) is not None for d in r["dates"]):
            rel_turns += 1
        if any(resolve(d["text"], today) is None for d in r["dates"]):
            abs_turns += 1
        if not r["entities"]:
            noent += 1
        if any(e["type"] == "event" for e in r["entities"]):
            ev_turns += 1
        if any(e["type"] == "quantity" for e in r["entities"]):
            qty_turns += 1
        if r["style"] == "lowercase" and q != q.lower():
            err("lowercase style but question has capitals")
    total = len(lines)
    print(f"turns: {total}")
    print("entities by type:", dict(sorted(ents_by_type.items(), key=lambda x: -x[1])))
    print(f"entities total: {sum(ents_by_type.values())}  relations: {n_rel}  dates entries: {n_dates}")
    if total:
        print(f"turns with relative date: {rel_turns} ({100*rel_turns/total:.0f}%), absolute date: {abs_turns} ({100*abs_turns/total:.0f}%), "
              f"no entities: {noent} ({100*noent/total:.0f}%), event: {ev_turns} ({100*ev_turns/total:.0f}%), quantity: {qty_turns} ({100*qty_turns/total:.0f}%)")
    print("styles:", dict(styles))
    print("domains:", dict(domains))
    if errors:
        print(f"\n{len(errors)} ERROR(S):")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("\nOK: no errors")


if __name__ == "__main__":
    main()
