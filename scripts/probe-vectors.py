#!/usr/bin/env python3
"""Runs cognee 1.6.5's own vector code against throwaway local stores and records what it writes.

    probe-vectors.py pgvector  PG_URL EMBED_URL OUT_DIR [acl-off|acl-on]
    probe-vectors.py turso     EMBED_URL OUT_DIR
    probe-vectors.py sqlite-to-turso OUT_DIR

PG_URL is a maintenance URL of a PostgreSQL that has the `vector` extension
(postgresql://postgres@127.0.0.1:PORT/postgres, trust auth); EMBED_URL is the base URL of
scripts/probe-vectors-embed-server.py (http://127.0.0.1:PORT/v1). Everything is printed
and saved as JSON under OUT_DIR. Not a test: a research probe for docs/specs/cognee-vectors.md.
Run pgvector with the python of a venv with cognee[postgres]==1.6.5, turso modes with one that
also has pyturso>=0.7.2,<0.8.
"""
import asyncio, json, os, subprocess, sys, tempfile, traceback, urllib.request
from urllib.parse import urlparse
from uuid import NAMESPACE_OID, UUID, uuid4, uuid5

MODE = sys.argv[1]
RESULTS = {}


def record(key, value):
    RESULTS[key] = value
    print(f"=== {key}\n{json.dumps(value, indent=2, default=str) if not isinstance(value, str) else value}\n", flush=True)


def base_env(out_dir, embed_url):
    root = os.path.join(out_dir, "cognee-root")
    os.environ.update({
        "SYSTEM_ROOT_DIRECTORY": os.path.join(root, "system"),
        "DATA_ROOT_DIRECTORY": os.path.join(root, "data"),
        "CACHE_ROOT_DIRECTORY": os.path.join(root, "cache"),
        "TELEMETRY_DISABLED": "1",
        "CACHING": "false",
        "LOG_LEVEL": "ERROR",
        "COGNEE_SKIP_CONNECTION_TEST": "true",
        "LLM_API_KEY": "sk-probe-llm-key",
        "EMBEDDING_PROVIDER": "openai",
        "EMBEDDING_MODEL": "openai/text-embedding-3-small",
        "EMBEDDING_DIMENSIONS": "16",
        "EMBEDDING_ENDPOINT": embed_url or "http://127.0.0.1:9/v1",
        "EMBEDDING_API_KEY": "sk-probe-embedding-key",
        # tiktoken's cl100k_base ships inside litellm; without this it is downloaded.
        "TIKTOKEN_CACHE_DIR": os.path.join(os.path.dirname(__import__("importlib.util").util.find_spec("litellm").origin),
                                           "litellm_core_utils", "tokenizers"),
        "HF_HUB_OFFLINE": "1",
    })


def build_window(node_set="user_sessions_from_cache", who="Alice", city="Paris", year="2010"):
    """One session window as cognify builds it: document, chunk, summary, entities, relations."""
    import hashlib
    from cognee.infrastructure.engine.models.Edge import Edge
    from cognee.modules.chunking.models.DocumentChunk import DocumentChunk
    from cognee.modules.data.processing.document_types.TextDocument import TextDocument
    from cognee.modules.engine.models.Entity import Entity
    from cognee.modules.engine.models.EntityType import EntityType
    from cognee.modules.engine.models.node_set import NodeSet
    from cognee.tasks.summarization.models import TextSummary

    text = f"Where did {who} move?\n{who} moved to {city} in {year}."
    md5 = hashlib.md5(text.encode()).hexdigest()
    sets = [NodeSet(id=NodeSet.id_for(node_set), name=node_set)]
    document = TextDocument(id=uuid4(), name=f"text_{md5}", raw_data_location=f"file:///tmp/probe/text_{md5}.txt",
                            external_metadata=json.dumps({"node_set": [node_set]}, indent=4), mime_type="text/plain",
                            belongs_to_set=sets)
    sha = hashlib.sha256(text.encode()).hexdigest()
    person = EntityType(name="person", description="person")
    place = EntityType(name="city", description="city")
    p = Entity(name=who.lower(), description=f"{who}, who moved", is_a=person, belongs_to_set=sets)
    c = Entity(name=city.lower(), description=f"{city}, a city", is_a=place, belongs_to_set=sets)
    p.relations.append((Edge(relationship_type="moved_to", edge_text=f"{who} moved to {city} in {year}."), c))
    chunk = DocumentChunk(id=uuid5(NAMESPACE_OID, f"{document.id}:{sha}:0"), text=text, chunk_size=len(text.split()),
                          chunk_index=0, cut_type="sentence_cut", content_hash=sha, max_chunk_tokens=4096,
                          chunker_id="text_chunker_v1", is_part_of=document,
                          contains=[(Edge(relationship_type="contains", edge_text=f"Document chunk mentions {e.name}: {e.description}"), e) for e in (p, c)],
                          document_id=str(document.id), document_name=document.name, belongs_to_set=sets)
    summary = TextSummary(id=uuid5(chunk.id, "TextSummary"), text=f"{who} relocated to {city} in {year}.", made_from=chunk,
                          source_chunk_id=str(chunk.id), belongs_to_set=sets)
    return summary


async def capture_sql(engine, statements):
    from sqlalchemy import event

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))
    event.listen(engine.sync_engine, "before_cursor_execute", before)


async def retrieval(query, label):
    from cognee.modules.retrieval.graph_completion_retriever import GraphCompletionRetriever
    from cognee.modules.retrieval.hybrid_retriever import HybridRetriever
    out = {}
    try:
        r = GraphCompletionRetriever(top_k=5)
        objs = await r.get_retrieved_objects(query=query)
        out["graph_completion_context"] = await r.get_context_from_objects(query=query, retrieved_objects=objs)
    except Exception as error:
        out["graph_completion_error"] = repr(error)
    try:
        r = HybridRetriever()
        objs = await r.get_retrieved_objects(query=query)
        out["hybrid_objects"] = objs
        out["hybrid_context"] = await r.get_context_from_objects(query=query, retrieved_objects=objs)
    except Exception as error:
        out["hybrid_error"] = repr(error) + traceback.format_exc()[-1500:]
    record(f"retrieval[{label}] {query}", out)


def embed_http(embed_url, texts, dim=16):
    body = json.dumps({"model": "text-embedding-3-small", "input": texts, "dimensions": dim}).encode()
    req = urllib.request.Request(embed_url.rstrip("/") + "/embeddings", body, {"Content-Type": "application/json"})
    return [d["embedding"] for d in json.load(urllib.request.urlopen(req))["data"]]


async def pgvector(pg_url, embed_url, out_dir, acl):
    import psycopg2
    u = urlparse(pg_url)
    db = "probe_vec_" + acl.replace("-", "_")
    admin = psycopg2.connect(host=u.hostname, port=u.port, user=u.username or "postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','template0','template1','memify_test')")
        for (name,) in cur.fetchall():
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{db}"')
    base_env(out_dir, embed_url)
    conn = {"HOST": u.hostname, "PORT": str(u.port), "USERNAME": u.username or "postgres", "PASSWORD": "trust", "NAME": db}
    for prefix in ("DB_", "VECTOR_DB_", "GRAPH_DATABASE_"):
        for k, v in conn.items():
            os.environ[prefix + k] = v
    os.environ.update({"DB_PROVIDER": "postgres", "VECTOR_DB_PROVIDER": "pgvector", "GRAPH_DATABASE_PROVIDER": "postgres",
                       "ENABLE_BACKEND_ACCESS_CONTROL": "true" if acl == "acl-on" else "false"})

    from cognee.infrastructure.databases.relational import create_db_and_tables as create_relational
    from cognee.infrastructure.databases.vector.pgvector.create_db_and_tables import create_db_and_tables as create_vector
    from cognee.infrastructure.databases.vector import get_vector_engine_async
    from cognee.infrastructure.databases.graph import get_graph_engine
    from cognee.tasks.storage.add_data_points import add_data_points
    await create_relational()
    await create_vector()

    dataset_db = db
    if acl == "acl-on":
        from cognee.context_global_variables import set_database_global_context_variables
        from cognee.modules.data.methods import create_authorized_dataset
        from cognee.modules.users.methods import get_default_user
        user = await get_default_user()
        dataset = await create_authorized_dataset("probe_dataset", user)
        await set_database_global_context_variables(dataset.id, user.id)
        with admin.cursor() as cur:
            pass
        import psycopg2.extras
        rel = psycopg2.connect(host=u.hostname, port=u.port, user="postgres", dbname=db)
        with rel.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM dataset_database")
            record("acl-on dataset_database rows", [dict(r) for r in cur.fetchall()])
        with admin.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database ORDER BY 1")
            record("acl-on databases in the cluster", [r[0] for r in cur.fetchall()])
        dataset_db = str(dataset.id)

    vector_engine = await get_vector_engine_async()
    statements = []
    await capture_sql(vector_engine.engine, statements)
    summary = build_window()
    await add_data_points([summary])
    record("collections (tables) after add_data_points", await vector_engine.get_table_names())
    record("embedding requests so far", open(os.environ["PROBE_EMBED_LOG"]).read().splitlines()[-6:] if os.environ.get("PROBE_EMBED_LOG") else "n/a")

    pg_bin = os.environ.get("PROBE_PG_BIN", "")
    dump = subprocess.run([os.path.join(pg_bin, "pg_dump"), "--schema-only", "-h", u.hostname, "-p", str(u.port), "-U", "postgres",
                           "-t", '"DocumentChunk_text"', "-t", '"EdgeType_relationship_name"', dataset_db],
                          capture_output=True, text=True)
    record("pg_dump --schema-only", dump.stdout + dump.stderr)
    data = psycopg2.connect(host=u.hostname, port=u.port, user="postgres", dbname=dataset_db)
    rows = {}
    with data.cursor() as cur:
        cur.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_name ~ '^[A-Z]' ORDER BY 2")
        for schema, table in cur.fetchall():
            cur.execute(f'SELECT id::text, payload::text, vector::text, pg_typeof(payload)::text FROM "{schema}"."{table}" ORDER BY id')
            rows[f"{schema}.{table}"] = [{"id": r[0], "payload": r[1], "vector": r[2], "payload_type": r[3]} for r in cur.fetchall()]
        cur.execute("SELECT format_type(a.atttypid, a.atttypmod), c.relname FROM pg_attribute a JOIN pg_class c ON c.oid=a.attrelid WHERE a.attname='vector' AND NOT a.attisdropped")
        record("vector column types", cur.fetchall())
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename ~ '^[A-Z]'")
        record("indexes on collections", cur.fetchall())
    record("collection rows", rows)
    record("insert statements (first of each shape)", sorted({s[:900] for s in statements if s.startswith("INSERT")}))

    # Upsert: same Entity again, another node set and another description.
    from cognee.modules.engine.models.Entity import Entity
    from cognee.modules.engine.models.node_set import NodeSet
    again = Entity(name="alice", description="changed", belongs_to_set=["other_set"])
    await vector_engine.index_data_points("Entity", "name", [again])
    with data.cursor() as cur:
        cur.execute("""SELECT payload::text, vector::text FROM "Entity_name" WHERE id = %s""", (str(again.id),))
        record("Entity_name alice after re-index with belongs_to_set=['other_set']", cur.fetchall())

    statements.clear()
    hits = await vector_engine.search("Entity_name", query_text="alice", limit=3, include_payload=True)
    record("search Entity_name 'alice'", [{"id": str(h.id), "score": h.score, "payload": h.payload} for h in hits])
    hits = await vector_engine.search("DocumentChunk_text", query_text="Paris", limit=3, node_name=["user_sessions_from_cache"])
    record("search DocumentChunk_text node_name filter", [{"id": str(h.id), "score": h.score} for h in hits])
    record("search SQL", [s for s in statements if "vector" in s or "payload" in s][:4])

    await retrieval("Where did Alice move?", "cognee-written")

    # Worker-style rows written with plain SQL: graph rows + vector rows, no cognee code.
    graph_db = dataset_db
    bob_text = "Where does Bob live?\nBob lives in Berlin since 2019."
    bob_doc, bob_chunk = str(uuid4()), None
    import hashlib
    sha = hashlib.sha256(bob_text.encode()).hexdigest()
    bob_chunk = str(uuid5(NAMESPACE_OID, f"{bob_doc}:{sha}:0"))
    bob_entity = str(uuid5(NAMESPACE_OID, "Entity:bob"))
    berlin = str(uuid5(NAMESPACE_OID, "Entity:berlin"))
    person = str(uuid5(NAMESPACE_OID, "EntityType:person"))
    ns = "user_sessions_from_cache"
    g = psycopg2.connect(host=u.hostname, port=u.port, user="postgres", dbname=graph_db)
    g.autocommit = True
    with g.cursor() as cur:
        def node(i, name, typ, props):
            cur.execute("INSERT INTO graph_node (id,name,type,properties) VALUES (%s,%s,%s,%s::jsonb) ON CONFLICT (id) DO NOTHING",
                        (i, name, typ, json.dumps(props)))
        def edge(s, t, rel, text):
            cur.execute("INSERT INTO graph_edge (source_id,target_id,relationship_name,properties) VALUES (%s,%s,%s,%s::jsonb) ON CONFLICT DO NOTHING",
                        (s, t, rel, json.dumps({"source_node_id": s, "target_node_id": t, "relationship_name": rel, "relationship_type": rel,
                                                "edge_text": text, "edge_object_id": str(uuid5(NAMESPACE_OID, (s + rel + t).lower().replace(" ", "_"))),
                                                "feedback_weight": 0.5, "updated_at": "2026-12-07 00:00:00"})))
        node(bob_chunk, "", "DocumentChunk", {"text": bob_text, "chunk_index": 0, "document_id": bob_doc, "document_name": "text_bob", "belongs_to_set": [ns],
                                              "metadata": {"index_fields": ["text"]}})
        node(bob_entity, "bob", "Entity", {"description": "Bob, who lives in Berlin", "belongs_to_set": [ns], "metadata": {"index_fields": ["name"], "identity_fields": ["name"]}})
        node(berlin, "berlin", "Entity", {"description": "Berlin, a city", "belongs_to_set": [ns], "metadata": {"index_fields": ["name"], "identity_fields": ["name"]}})
        node(person, "person", "EntityType", {"description": "person"})
        edge(bob_chunk, bob_entity, "contains", "Document chunk mentions bob: Bob, who lives in Berlin")
        edge(bob_entity, berlin, "lives_in", "Bob lives in Berlin since 2019.")
        edge(bob_entity, person, "is_a", "bob is a person.")
    now = 1765065600000
    def payload(i, text, **extra):
        p = {"id": i, "created_at": now, "updated_at": now, "ontology_valid": False, "ontology_uri": None, "version": 1,
             "topological_rank": 0, "metadata": {"index_fields": ["text"]}, "type": "IndexSchema", "belongs_to_set": [ns],
             "source_pipeline": None, "source_task": None, "source_node_set": None, "source_user": None, "source_content_hash": None,
             "feedback_weight": 0.5, "importance_weight": 0.5, "text": text, "document_id": None, "document_name": None,
             "chunk_index": None, "source_chunk_id": None, "external_metadata": None}
        p.update(extra)
        return p
    edge_texts = ["Document chunk mentions bob: Bob, who lives in Berlin", "Bob lives in Berlin since 2019.", "bob is a person."]
    rows = [("DocumentChunk_text", bob_chunk, bob_text, {"document_id": bob_doc, "document_name": "text_bob", "chunk_index": 0}),
            ("Entity_name", bob_entity, "bob", {}), ("Entity_name", berlin, "berlin", {})]
    rows += [("EdgeType_relationship_name", str(uuid5(NAMESPACE_OID, "EdgeType:" + t.lower().replace(" ", "_").replace("'", ""))), t, {"belongs_to_set": []}) for t in edge_texts]
    vecs = embed_http(embed_url, [r[2] for r in rows])
    with data.cursor() as cur:
        for (table, i, text, extra), vec in zip(rows, vecs):
            p = payload(i, text, **extra)
            cur.execute(f'INSERT INTO "{table}" (id, payload, vector) VALUES (%s, %s::json, %s::vector) ON CONFLICT (id) DO NOTHING',
                        (i, json.dumps(p), "[" + ",".join(str(float(x)) for x in vec) + "]"))
    data.commit()
    await retrieval("Where does Bob live?", "worker-written SQL rows")

    # Provenance: a worker-style run id in source_run_refs, then cognee attaches a key.
    graph_engine = await get_graph_engine()
    from cognee.infrastructure.databases.provenance.source_ref_state import provenance_after_attach
    ds, data_id = str(uuid4()), str(uuid4())
    key = f"source_ref:v1:{ds}:{data_id}"
    worker_ref = f"source_run_ref:v1:run-20261204T000253Z-750622e0:{key}"
    with g.cursor() as cur:
        cur.execute("UPDATE graph_node SET source_ref_keys=%s, source_dataset_ids=%s, source_run_refs=%s, source_run_ids=%s WHERE id=%s",
                    ([key], [ds], [worker_ref], ["run-20261204T000253Z-750622e0"], person))
    outcome = {}
    try:
        await graph_engine.attach_node_source_refs([person], [f"source_ref:v1:{uuid4()}:{uuid4()}"], str(uuid4()))
        outcome["attach"] = "ok"
    except Exception as error:
        outcome["attach"] = repr(error)
    try:
        await graph_engine.remove_node_source_refs([person], [key])
        outcome["remove"] = "ok"
    except Exception as error:
        outcome["remove"] = repr(error)
    good = f"source_run_ref:v1:{uuid5(NAMESPACE_OID, 'memify-run:run-20261204T000253Z-750622e0')}:{key}"
    outcome["pure attach with a uuid run ref"] = provenance_after_attach([key], [good], [f"source_ref:v1:{ds}:{uuid4()}"], str(uuid4()))._asdict()
    record("provenance with a non-UUID run id in source_run_refs", outcome)

    from cognee.infrastructure.files.utils.open_data_file import open_data_file
    opened = {}
    tmp = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    tmp.write(bob_text)
    tmp.close()
    for location in (f"memify://{ds}/text_bob.txt", "file://" + tmp.name, tmp.name):
        try:
            async with open_data_file(location, mode="r", encoding="utf-8") as f:
                opened[location] = "read ok: " + repr(f.read()[:20])
        except Exception as error:
            opened[location] = repr(error)
    record("open_data_file(raw_data_location)", opened)


async def turso(embed_url, out_dir):
    base_env(out_dir, embed_url)
    os.makedirs(out_dir, exist_ok=True)
    vec_path, graph_path = os.path.join(out_dir, "vectors.turso.db"), os.path.join(out_dir, "graph.turso.db")
    for p in (vec_path, graph_path):
        for s in ("", "-wal", "-shm", "-log"):
            if os.path.exists(p + s):
                os.remove(p + s)
    os.environ.update({"VECTOR_DB_PROVIDER": "turso", "VECTOR_DB_URL": vec_path, "GRAPH_DATABASE_PROVIDER": "turso",
                       "GRAPH_DATABASE_URL": graph_path, "ENABLE_BACKEND_ACCESS_CONTROL": "false", "DB_PROVIDER": "sqlite"})
    from cognee.infrastructure.databases.relational import create_db_and_tables as create_relational
    from cognee.infrastructure.databases.vector import get_vector_engine_async
    from cognee.infrastructure.databases.graph import get_graph_engine
    from cognee.tasks.storage.add_data_points import add_data_points
    await create_relational()
    await add_data_points([build_window()])
    vector_engine = await get_vector_engine_async()
    graph_engine = await get_graph_engine()
    await retrieval("Where did Alice move?", "turso")
    await vector_engine.close()
    await graph_engine.close()
    import sqlite3, struct
    for label, path in (("vector file", vec_path), ("graph file", graph_path)):
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            schema = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
            out = {"schema (read with stock sqlite3 %s)" % sqlite3.sqlite_version: schema,
                   "journal_mode": con.execute("PRAGMA journal_mode").fetchone()}
            if label == "vector file":
                row = con.execute('SELECT id, payload, vector, typeof(vector), length(vector) FROM "Entity_name" LIMIT 1').fetchone()
                n = row[4] // 4
                out["Entity_name row"] = {"id": row[0], "payload": row[1], "typeof(vector)": row[3], "length(vector)": row[4],
                                          "vector as <f32 little-endian": list(struct.unpack(f"<{n}f", row[2][: 4 * n])),
                                          "vector hex": row[2].hex()}
            else:
                out["graph_node sample"] = con.execute("SELECT id, name, type, properties, created_at FROM graph_node LIMIT 2").fetchall()
                out["graph_edge sample"] = con.execute("SELECT * FROM graph_edge LIMIT 1").fetchall()
            record(f"turso {label}", out)
        except Exception as error:
            record(f"turso {label}", repr(error) + traceback.format_exc())


async def sqlite_to_turso(out_dir):
    """A file written by plain SQLite in the worker's layout, opened by cognee's Turso adapters."""
    import sqlite3, struct
    base_env(out_dir, None)
    os.makedirs(out_dir, exist_ok=True)
    graph_path, vec_path = os.path.join(out_dir, "worker-graph.sqlite"), os.path.join(out_dir, "worker-vectors.sqlite")
    for p in (graph_path, vec_path):
        for s in ("", "-wal", "-shm", "-log"):
            if os.path.exists(p + s):
                os.remove(p + s)
    schema = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "GraphStore", "SQLite", "SQLiteGraphWriter.swift")).read()
    ddl = schema.split('static let schema = """', 1)[1].split('"""', 1)[0]
    con = sqlite3.connect(graph_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(ddl)
    alice, paris = str(uuid5(NAMESPACE_OID, "Entity:alice")), str(uuid5(NAMESPACE_OID, "Entity:paris"))
    for i, n in ((alice, "alice"), (paris, "paris")):
        con.execute("INSERT INTO graph_node (id,name,type,properties) VALUES (?,?,?,?)",
                    (i, n, "Entity", json.dumps({"description": n, "belongs_to_set": ["s"]})))
    con.execute("INSERT INTO graph_edge (source_id,target_id,relationship_name,properties) VALUES (?,?,?,?)",
                (alice, paris, "moved_to", json.dumps({"relationship_name": "moved_to", "edge_text": "Alice moved to Paris."})))
    con.commit()
    con.close()
    v = sqlite3.connect(vec_path)
    v.execute("PRAGMA journal_mode=WAL")
    v.execute('CREATE TABLE "Entity_name" (id TEXT PRIMARY KEY, payload TEXT, vector F32_BLOB(4))')
    for i, n, vec in ((alice, "alice", [1, 0, 0, 0]), (paris, "paris", [0, 1, 0, 0])):
        v.execute('INSERT INTO "Entity_name" VALUES (?,?,?)',
                  (i, json.dumps({"id": i, "text": n, "belongs_to_set": ["s"], "type": "IndexSchema"}), struct.pack("<4f", *vec)))
    v.commit()
    v.close()
    out = {}
    import turso as pyturso
    try:
        c = pyturso.connect(graph_path)
        out["pyturso.connect(graph) tables"] = c.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1").fetchall()
        out["pyturso.connect(graph) graph_node"] = c.execute("SELECT id, name, source_ref_keys FROM graph_node").fetchall()
        c.close()
    except Exception as error:
        out["pyturso.connect(graph)"] = repr(error)
    os.environ.update({"GRAPH_DATABASE_PROVIDER": "turso", "GRAPH_DATABASE_URL": graph_path, "VECTOR_DB_PROVIDER": "turso",
                       "VECTOR_DB_URL": vec_path, "ENABLE_BACKEND_ACCESS_CONTROL": "false", "DB_PROVIDER": "sqlite",
                       "EMBEDDING_DIMENSIONS": "4"})
    from cognee.infrastructure.databases.graph.turso.adapter import TursoAdapter
    from cognee.infrastructure.databases.vector.turso.TursoVectorAdapter import TursoVectorAdapter
    g = TursoAdapter(database_path=graph_path)
    for name, call in (("is_empty", lambda: g.is_empty()), ("get_graph_data", lambda: g.get_graph_data()),
                       ("get_neighborhood", lambda: g.get_neighborhood([alice], depth=1)),
                       ("add_nodes (cognee upsert into worker table)", lambda: g.add_nodes([(str(uuid4()), {"name": "x", "type": "Entity"})]))):
        try:
            out[f"TursoAdapter.{name}"] = await call()
        except Exception as error:
            out[f"TursoAdapter.{name}"] = repr(error)
    await g.close()

    class FixedEmbedder:
        model = "fixed"
        def get_vector_size(self):
            return 4
        def get_batch_size(self):
            return 32
        async def embed_text(self, texts):
            return [[1.0, 0.1, 0.0, 0.0] for _ in texts]
    va = TursoVectorAdapter(url=vec_path, api_key=None, embedding_engine=FixedEmbedder())
    try:
        hits = await va.search("Entity_name", query_vector=[1.0, 0.1, 0.0, 0.0], limit=2, include_payload=True, node_name=["s"])
        out["TursoVectorAdapter.search over a sqlite3-written F32_BLOB table"] = [(str(h.id), h.score, h.payload) for h in hits]
    except Exception as error:
        out["TursoVectorAdapter.search"] = repr(error) + traceback.format_exc()[-800:]
    await va.close()
    record("plain-SQLite file opened by pyturso / cognee Turso adapters", out)

    # Both engines open on one WAL file at the same time.
    both = {}
    a = sqlite3.connect(graph_path)
    t = pyturso.connect(graph_path)
    a.execute("INSERT INTO graph_metadata VALUES ('written_by', 'sqlite3')")
    a.commit()
    both["pyturso sees sqlite3's commit"] = t.execute("SELECT * FROM graph_metadata").fetchall()
    t.execute("INSERT INTO graph_metadata VALUES ('written_by_2', 'pyturso')")
    t.commit()
    both["sqlite3 sees pyturso's commit"] = a.execute("SELECT * FROM graph_metadata").fetchall()
    t.close()
    a.close()
    a = sqlite3.connect(graph_path)
    both["after both closed"] = a.execute("SELECT * FROM graph_metadata").fetchall()
    both["integrity_check"] = a.execute("PRAGMA integrity_check").fetchall()
    a.close()
    record("stock SQLite and pyturso open on the same file at once", both)


if __name__ == "__main__":
    if MODE == "pgvector":
        out = sys.argv[4]
        os.makedirs(out, exist_ok=True)
        asyncio.run(pgvector(sys.argv[2], sys.argv[3], out, sys.argv[5] if len(sys.argv) > 5 else "acl-off"))
    elif MODE == "turso":
        out = sys.argv[3]
        asyncio.run(turso(sys.argv[2], out))
    elif MODE == "sqlite-to-turso":
        out = sys.argv[2]
        asyncio.run(sqlite_to_turso(out))
    with open(os.path.join(out, f"probe-{MODE}{'-' + sys.argv[5] if MODE == 'pgvector' and len(sys.argv) > 5 else ''}.json"), "w") as f:
        json.dump(RESULTS, f, indent=2, default=str)
