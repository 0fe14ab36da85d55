#!/usr/bin/env python3
"""Writes a small worker-shaped graph + vector collections by hand, for checking
scripts/cognee-vector-interop.py before the worker writes vectors itself.

    cognee-vector-fixture.py (--postgres URL | --sqlite FILE) --embedding-endpoint URL/v1 \\
        --embedding-dimensions N --turns 60 --probes-out probes.json

Layout (docs/specs/cognee-vectors.md §1-§3, /work/shared/specs/cognee-graph.md): the worker's
graph DDL, read from Sources/GraphStore/{Postgres/PostgresGraphWriter,SQLite/SQLiteGraphWriter}.swift;
per turn a TextDocument, a DocumentChunk (is_part_of the document), a TextSummary (made_from the
chunk), two Entities (person, place; the chunk `contains` both, `is_a` their EntityType) and the
person -> place relation whose edge_text is the answer; provenance source_ref:v1 keys with UUID
run ids. Vector rows in DocumentChunk_text, TextSummary_text, Entity_name, EntityType_name,
TextDocument_name, EdgeType_relationship_name with the §1.3 payload and vectors from the
endpoint (plain floats; pgvector `vector(N)`, SQLite `F32_BLOB(N)` little-endian float32 in the
same file as the graph). Plain python + psycopg2 (cognee's venv has it) or sqlite3; no cognee code.
The probes file is what the interop script's search mode reads. The PostgreSQL database must be
new (tables are created) and must allow CREATE EXTENSION vector.
"""
import argparse, hashlib, json, os, re, struct, urllib.request
from uuid import NAMESPACE_OID, uuid4, uuid5

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
NS = "user_sessions_from_cache"
SYL = ["zor", "vak", "que", "lith", "bran", "dle", "moor", "kes", "trin", "olo", "pha", "gur", "vex", "ilm",
       "sarn", "udo", "wyr", "ceth", "nob", "rix", "tal", "emb", "fyn", "hask"]


def norm(s):
    return s.lower().replace(" ", "_").replace("'", "")


def embed(endpoint, texts, dim):
    out = []
    for i in range(0, len(texts), 64):
        body = json.dumps({"model": "fixture", "input": texts[i:i + 64], "dimensions": dim}).encode()
        req = urllib.request.Request(endpoint.rstrip("/") + "/embeddings", body, {"Content-Type": "application/json"})
        out += [d["embedding"] for d in json.load(urllib.request.urlopen(req))["data"]]
    return out


def payload(i, text, sets, **extra):
    p = {"id": i, "created_at": 1796666907316, "updated_at": 1796666907316, "ontology_valid": False, "ontology_uri": None,
         "version": 1, "topological_rank": 0, "metadata": {"index_fields": ["text"]}, "type": "IndexSchema",
         "belongs_to_set": sets, "source_pipeline": None, "source_task": None, "source_node_set": None, "source_user": None,
         "source_content_hash": None, "feedback_weight": 0.5, "importance_weight": 0.5, "text": text, "document_id": None,
         "document_name": None, "chunk_index": None, "source_chunk_id": None, "external_metadata": None}
    p.update(extra)
    return p


def build(turns):
    import random
    rnd = random.Random(19)
    used = set()

    def word():
        while True:
            w = "".join(rnd.choice(SYL) for _ in range(3))
            if w not in used:
                used.add(w)
                return w

    dataset = str(uuid5(NAMESPACE_OID, "memify-fixture-dataset"))
    run = str(uuid5(NAMESPACE_OID, "memify-run:fixture"))
    nodes, edges, vectors, probes = {}, {}, [], []

    def node(i, name, typ, props, key):
        if i in nodes:
            nodes[i]["keys"].add(key)
        else:
            nodes[i] = {"id": i, "name": name, "type": typ, "properties": props, "keys": {key}}

    def edge(s, t, rel, text, key):
        k = (s, t, rel)
        props = {"source_node_id": s, "target_node_id": t, "relationship_name": rel, "relationship_type": rel,
                 "edge_text": text, "edge_object_id": str(uuid5(NAMESPACE_OID, norm(s + rel + t))), "feedback_weight": 0.5}
        if k in edges:
            edges[k]["keys"].add(key)
        else:
            edges[k] = {"key": k, "properties": props, "keys": {key}}
        vectors.append(("EdgeType_relationship_name", str(uuid5(NAMESPACE_OID, "EdgeType:" + norm(text))), text, [], {}))

    ns_id = str(uuid5(NAMESPACE_OID, "NodeSet:" + norm(NS)))
    for n in range(turns):
        first, last, thing, place = word().capitalize(), word().capitalize(), word(), word().capitalize()
        verb = ["repaired", "painted", "sold", "buried", "found"][n % 5]
        question, answer = f"What happened to the {thing}?", f"{first} {last} {verb} the {thing} in {place} during {1900 + n}."
        text = f"Session ID: vec-session-{n // 5}\n\nQuestion: {question}\n\nAnswer: {answer}\n\n"
        doc = str(uuid5(NAMESPACE_OID, f"memify-fixture-doc-{n}"))
        key = f"source_ref:v1:{dataset}:{doc}"
        md5 = hashlib.md5(text.encode()).hexdigest()
        doc_name = f"text_{md5}"
        chunk = str(uuid5(NAMESPACE_OID, f"{doc}:{hashlib.sha256(text.encode()).hexdigest()}:0"))
        summary = str(uuid5(NAMESPACE_OID, f"{chunk}TextSummary"))
        person_name, place_name = f"{first} {last}".lower(), place.lower()
        person, where = str(uuid5(NAMESPACE_OID, "Entity:" + norm(person_name))), str(uuid5(NAMESPACE_OID, "Entity:" + norm(place_name)))
        tperson, tplace = str(uuid5(NAMESPACE_OID, "EntityType:person")), str(uuid5(NAMESPACE_OID, "EntityType:place"))
        ext = json.dumps({"node_set": [NS]}, indent=4)
        node(ns_id, NS, "NodeSet", {"belongs_to_set": None}, key)
        node(doc, doc_name, "TextDocument", {"raw_data_location": f"file:///tmp/{doc_name}.txt", "external_metadata": ext,
                                             "mime_type": "text/plain", "belongs_to_set": [NS], "metadata": {"index_fields": ["name"]}}, key)
        node(chunk, "", "DocumentChunk", {"text": text, "chunk_size": len(text.split()), "chunk_index": 0, "cut_type": "sentence_cut",
                                          "document_id": doc, "document_name": doc_name, "belongs_to_set": [NS],
                                          "metadata": {"index_fields": ["text"]}}, key)
        node(summary, "", "TextSummary", {"text": answer, "source_chunk_id": chunk, "belongs_to_set": [NS],
                                          "metadata": {"index_fields": ["text"]}}, key)
        node(tperson, "person", "EntityType", {"description": "person", "metadata": {"index_fields": ["name"]}}, key)
        node(tplace, "place", "EntityType", {"description": "place", "metadata": {"index_fields": ["name"]}}, key)
        node(person, person_name, "Entity", {"description": f"{first} {last}, who {verb} the {thing}", "belongs_to_set": [NS],
                                             "metadata": {"index_fields": ["name"]}}, key)
        node(where, place_name, "Entity", {"description": f"{place}, a place", "belongs_to_set": [NS],
                                           "metadata": {"index_fields": ["name"]}}, key)
        edge(chunk, doc, "is_part_of", "is_part_of", key)
        edge(summary, chunk, "made_from", "made_from", key)
        edge(chunk, person, "contains", f"Document chunk mentions {person_name}: {first} {last}, who {verb} the {thing}", key)
        edge(chunk, where, "contains", f"Document chunk mentions {place_name}: {place}, a place", key)
        edge(person, tperson, "is_a", f"{person_name} is a person.", key)
        edge(where, tplace, "is_a", f"{place_name} is a place.", key)
        edge(person, where, verb, answer, key)
        vectors += [("DocumentChunk_text", chunk, text.strip(), [NS], {"document_id": doc, "document_name": doc_name, "chunk_index": 0,
                                                                      "external_metadata": json.dumps({"node_set": [NS]})}),
                    ("TextSummary_text", summary, answer, [NS], {"source_chunk_id": chunk}),
                    ("Entity_name", person, person_name, [NS], {}), ("Entity_name", where, place_name, [NS], {}),
                    ("EntityType_name", tperson, "person", [], {}), ("EntityType_name", tplace, "place", [], {}),
                    ("TextDocument_name", doc, doc_name, [NS], {"external_metadata": ext})]
        probes.append({"question": f"What did {first} {last} do with the {thing} in {place}?", "chunk_id": chunk,
                       "chunk_text": text.strip(), "entities": [person, where]})
    dedup = {}
    for v in vectors:
        dedup[(v[0], v[1])] = v
    prov = lambda keys: (sorted(keys), [dataset], [run], sorted(f"source_run_ref:v1:{run}:{k}" for k in keys))
    return list(nodes.values()), list(edges.values()), list(dedup.values()), probes, prov


def swift_literal(path, marker):
    source = open(os.path.join(ROOT, path)).read()
    return source.split(marker, 1)[1].split('"""', 1)[0]


def write_postgres(url, nodes, edges, vectors, vecs, prov, dim):
    import psycopg2
    con = psycopg2.connect(url)
    cur = con.cursor()
    ddl = swift_literal("Sources/GraphStore/Postgres/PostgresGraphWriter.swift", 'var sql = """')
    cur.execute(ddl)
    cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    # cognee-graph.md §8: the first write to an empty graph marks it graph-provenance (as the worker does).
    cur.execute("INSERT INTO graph_metadata (key, value) VALUES ('provenance_version', '1'), ('delete_mode', 'graph_native') "
                "ON CONFLICT DO NOTHING")
    for n in nodes:
        k, d, r, rr = prov(n["keys"])
        cur.execute("INSERT INTO graph_node (id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs) "
                    "VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s)", (n["id"], n["name"], n["type"], json.dumps(n["properties"]), k, d, r, rr))
    for e in edges:
        k, d, r, rr = prov(e["keys"])
        cur.execute("INSERT INTO graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, "
                    "source_run_ids, source_run_refs) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s)",
                    (*e["key"], json.dumps(e["properties"]), k, d, r, rr))
    for table in sorted({v[0] for v in vectors}):
        cur.execute(f'CREATE TABLE IF NOT EXISTS public."{table}" (id uuid PRIMARY KEY, payload json, vector public.vector({dim}))')
    for (table, i, text, sets, extra), vec in zip(vectors, vecs):
        cur.execute(f'INSERT INTO public."{table}" (id, payload, vector) VALUES (%s::uuid, %s::json, %s::vector)',
                    (i, json.dumps(payload(i, text, sets, **extra)), "[" + ",".join(repr(float(x)) for x in vec) + "]"))
    con.commit()
    con.close()


def write_sqlite(path, nodes, edges, vectors, vecs, prov, dim):
    import sqlite3
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(swift_literal("Sources/GraphStore/SQLite/SQLiteGraphWriter.swift", 'static let schema = """'))
    for n in nodes:
        k, d, r, rr = prov(n["keys"])
        con.execute("INSERT INTO graph_node (id, name, type, properties, source_ref_keys, source_dataset_ids, source_run_ids, source_run_refs) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (n["id"], n["name"], n["type"], json.dumps(n["properties"]),
                                                       json.dumps(k), json.dumps(d), json.dumps(r), json.dumps(rr)))
    for e in edges:
        k, d, r, rr = prov(e["keys"])
        con.execute("INSERT INTO graph_edge (source_id, target_id, relationship_name, properties, source_ref_keys, source_dataset_ids, "
                    "source_run_ids, source_run_refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*e["key"], json.dumps(e["properties"]), json.dumps(k), json.dumps(d), json.dumps(r), json.dumps(rr)))
    for table in sorted({v[0] for v in vectors}):
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" (id TEXT PRIMARY KEY, payload TEXT, vector F32_BLOB({dim}))')
    for (table, i, text, sets, extra), vec in zip(vectors, vecs):
        con.execute(f'INSERT INTO "{table}" (id, payload, vector) VALUES (?, ?, ?)',
                    (i, json.dumps(payload(i, text, sets, **extra)), struct.pack(f"<{dim}f", *vec)))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def main():
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres")
    where.add_argument("--sqlite")
    parser.add_argument("--embedding-endpoint", required=True)
    parser.add_argument("--embedding-dimensions", type=int, required=True)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--probes-out", required=True)
    args = parser.parse_args()
    nodes, edges, vectors, probes, prov = build(args.turns)
    vecs = embed(args.embedding_endpoint, [v[2] for v in vectors], args.embedding_dimensions)
    if args.postgres:
        write_postgres(args.postgres, nodes, edges, vectors, vecs, prov, args.embedding_dimensions)
    else:
        write_sqlite(args.sqlite, nodes, edges, vectors, vecs, prov, args.embedding_dimensions)
    with open(args.probes_out, "w") as f:
        json.dump(probes, f)
    print(json.dumps({"nodes": len(nodes), "edges": len(edges), "vector_rows": len(vectors), "probes": len(probes)}))


if __name__ == "__main__":
    main()
