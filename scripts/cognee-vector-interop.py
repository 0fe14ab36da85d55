#!/usr/bin/env python3
"""cognee 1.6.5's own code searches (and writes beside) a graph + vector collections written by memify-worker.

    cognee-vector-interop.py search  (--postgres URL | --turso FILE) EMBEDDING --probes PROBES.json [--top-k K]
    cognee-vector-interop.py cognify (--postgres URL | --turso FILE) EMBEDDING [--keep-going]

    EMBEDDING = --embedding-endpoint http://127.0.0.1:PORT/v1 --embedding-model M --embedding-dimensions N

Run with the python of scripts/cognee-venv (cognee[postgres,turso]==1.6.5):
    $(scripts/cognee-venv) scripts/cognee-vector-interop.py search --postgres postgresql://postgres@127.0.0.1:5432/db \\
        --embedding-endpoint http://127.0.0.1:47311/v1 --embedding-model memify-test-embed --embedding-dimensions 64 \\
        --probes probes.json

Where cognee reads (access control off, ENABLE_BACKEND_ACCESS_CONTROL=false):
  --postgres URL  GRAPH_DATABASE_PROVIDER=postgres, VECTOR_DB_PROVIDER=pgvector and the relational
                  DB_PROVIDER=postgres, all three on the URL's database, schema public (graph_node,
                  graph_edge and the "<Type>_<field>" vector tables where the worker wrote them with
                  --placement shared --schema public). The database needs the vector extension.
  --turso FILE    GRAPH_DATABASE_PROVIDER=turso and VECTOR_DB_PROVIDER=turso, GRAPH_DATABASE_URL and
                  VECTOR_DB_URL both FILE (the worker keeps graph and vector tables in one SQLite
                  file); relational DB_PROVIDER=sqlite in a temporary folder. Needs pyturso. No other
                  process may have FILE open (stock SQLite and pyturso do not share locks).
Embeddings: EMBEDDING_PROVIDER=openai_compatible (no `dimensions` field sent; the server must
answer with N floats), EMBEDDING_ENDPOINT/MODEL/DIMENSIONS from the options, EMBEDDING_API_KEY
"no-key-required" unless set. Always set: TELEMETRY_DISABLED, CACHING=false,
COGNEE_SKIP_CONNECTION_TEST=true, HF_HUB_OFFLINE=1, TIKTOKEN_CACHE_DIR (litellm's bundled
cl100k_base), SYSTEM/DATA/CACHE_ROOT_DIRECTORY under a new temporary folder (printed as "root").

search: PROBES.json is [{"question": str, "chunk_id": uuid, "entities": [uuid, ...], "chunk_text": str (optional)}].
  For each probe, without any answer LLM (spec cognee-vectors.md §6):
    HybridRetriever().get_retrieved_objects(query) + get_context_from_objects(...)
    GraphCompletionRetriever(top_k=K).get_retrieved_objects(query)            (K default 5)
  and reports
    hybrid_chunk   the chunk id is among the hybrid chunks, or chunk_text is in the hybrid context
    hybrid_entity  one of the entity ids is among the hybrid entities
    graph_chunk    a returned triplet has the chunk as one end
    graph_entity   a returned triplet has one of the entities as one end
    hybrid_found = hybrid_chunk or hybrid_entity; graph_found = graph_chunk or graph_entity
  with totals (counts of each) and errors (exceptions, per probe).
cognify: snapshots every graph node, edge and vector row, lets cognee `add` two short documents
  into its own dataset "cognee_interop_own" and `cognify` them with a scripted LLM (cognee's
  LLMGateway.acreate_structured_output replaced in this process: entities are the capitalised
  words of the text, edges chain them; no network), deletes the first document
  (cognee.datasets.delete_data), snapshots again and reports as problems every pre-existing row
  that is gone; rows whose properties changed are listed as "changed" (cognee merging its
  entities into existing ones is expected). The first document names two entities that already
  exist in the graph, so cognee's delete runs over rows it shares with the worker.

Output: one JSON object on stdout (everything cognee logs goes to stderr). Exit status: 0 when
search found every probe in both retrievers (cognify: no problem), 1 when some probe/row is
missing, 2 on a usage or setup error.
"""
import argparse, asyncio, json, os, re, sys, tempfile, traceback

# cognee and its libraries print to stdout; keep the real stdout for the report only.
_REPORT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr


def report(obj, status):
    _REPORT.write(json.dumps(obj, default=str) + "\n")
    _REPORT.flush()
    sys.exit(status)


def configure(args):
    root = tempfile.mkdtemp(prefix="cognee-vector-interop-")
    env = {
        "ENABLE_BACKEND_ACCESS_CONTROL": "false",
        "TELEMETRY_DISABLED": "1",
        "CACHING": "false",
        "COGNEE_SKIP_CONNECTION_TEST": "true",
        "HF_HUB_OFFLINE": "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "ERROR"),
        "SYSTEM_ROOT_DIRECTORY": os.path.join(root, "system"),
        "DATA_ROOT_DIRECTORY": os.path.join(root, "data"),
        "CACHE_ROOT_DIRECTORY": os.path.join(root, "cache"),
        "LLM_API_KEY": os.environ.get("LLM_API_KEY", "sk-not-used"),
        "EMBEDDING_PROVIDER": "openai_compatible",
        "EMBEDDING_ENDPOINT": args.embedding_endpoint,
        "EMBEDDING_MODEL": args.embedding_model,
        "EMBEDDING_DIMENSIONS": str(args.embedding_dimensions),
        "EMBEDDING_API_KEY": os.environ.get("EMBEDDING_API_KEY", "no-key-required"),
    }
    try:
        import importlib.util
        litellm = os.path.dirname(importlib.util.find_spec("litellm").origin)
        env["TIKTOKEN_CACHE_DIR"] = os.path.join(litellm, "litellm_core_utils", "tokenizers")
    except Exception:
        pass
    if args.postgres:
        from urllib.parse import urlparse, unquote
        u = urlparse(args.postgres)
        host, port = u.hostname or "127.0.0.1", str(u.port or 5432)
        user, password = unquote(u.username or "postgres"), unquote(u.password or "unused-with-trust-auth")
        name = u.path.lstrip("/")
        if not name:
            report({"error": "the PostgreSQL URL names no database"}, 2)
        for prefix in ("DB_", "VECTOR_DB_", "GRAPH_DATABASE_"):
            env.update({prefix + "HOST": host, prefix + "PORT": port, prefix + "USERNAME": user,
                        prefix + "PASSWORD": password, prefix + "NAME": name})
        env.update({"DB_PROVIDER": "postgres", "VECTOR_DB_PROVIDER": "pgvector", "GRAPH_DATABASE_PROVIDER": "postgres"})
    else:
        path = os.path.abspath(args.turso)
        if not os.path.exists(path):
            report({"error": f"{path} does not exist"}, 2)
        env.update({"GRAPH_DATABASE_PROVIDER": "turso", "GRAPH_DATABASE_URL": path,
                    "VECTOR_DB_PROVIDER": "turso", "VECTOR_DB_URL": path,
                    "DB_PROVIDER": "sqlite", "DB_PATH": os.path.join(root, "relational"), "DB_NAME": "cognee_db"})
    os.environ.update(env)
    return root


def ids_of(items):
    from cognee.modules.retrieval.utils.results import result_id
    out = []
    for item in items or []:
        try:
            out.append(str(result_id(item)))
        except Exception:
            out.append(str(item.get("id") if isinstance(item, dict) else getattr(item, "id", item)))
    return out


def triplet_ends(edge):
    ends = []
    for side in ("node1", "node2"):
        node = getattr(edge, side, None)
        if node is not None:
            ends.append(str(getattr(node, "id", node)))
    return ends


async def search(args):
    from cognee.modules.retrieval.graph_completion_retriever import GraphCompletionRetriever
    from cognee.modules.retrieval.hybrid_retriever import HybridRetriever

    with open(args.probes) as f:
        probes = json.load(f)
    results, errors = [], []
    totals = {k: 0 for k in ("probes", "hybrid_chunk", "hybrid_entity", "hybrid_found",
                             "graph_chunk", "graph_entity", "graph_found", "both_found")}
    for index, probe in enumerate(probes):
        question, chunk = probe["question"], str(probe["chunk_id"])
        entities = {str(e) for e in probe.get("entities", [])}
        row = {"index": index, "question": question, "chunk_id": chunk}
        try:
            hybrid = HybridRetriever()
            objects = await hybrid.get_retrieved_objects(query=question)
            context = await hybrid.get_context_from_objects(query=question, retrieved_objects=objects)
            chunk_ids = ids_of(objects.get("chunks"))
            entity_ids = ids_of(objects.get("entities"))
            text = probe.get("chunk_text")
            row["hybrid_chunk"] = chunk in chunk_ids or bool(text and text.strip() in (context or ""))
            row["hybrid_chunk_rank"] = chunk_ids.index(chunk) + 1 if chunk in chunk_ids else None
            row["hybrid_entity"] = bool(entities & set(entity_ids))
        except Exception as error:
            row["hybrid_error"] = repr(error)
            errors.append({"probe": index, "retriever": "hybrid", "error": repr(error), "trace": traceback.format_exc()[-1500:]})
        try:
            graph = GraphCompletionRetriever(top_k=args.top_k)
            triplets = await graph.get_retrieved_objects(query=question)
            ends = [triplet_ends(t) for t in triplets or []]
            flat = {e for pair in ends for e in pair}
            row["graph_chunk"] = chunk in flat
            row["graph_entity"] = bool(entities & flat)
            row["graph_triplets"] = len(ends)
        except Exception as error:
            row["graph_error"] = repr(error)
            errors.append({"probe": index, "retriever": "graph_completion", "error": repr(error), "trace": traceback.format_exc()[-1500:]})
        row["hybrid_found"] = bool(row.get("hybrid_chunk") or row.get("hybrid_entity"))
        row["graph_found"] = bool(row.get("graph_chunk") or row.get("graph_entity"))
        totals["probes"] += 1
        for key in ("hybrid_chunk", "hybrid_entity", "hybrid_found", "graph_chunk", "graph_entity", "graph_found"):
            totals[key] += int(bool(row.get(key)))
        totals["both_found"] += int(row["hybrid_found"] and row["graph_found"])
        results.append(row)
    complete = totals["both_found"] == totals["probes"] and not errors
    return {"mode": "search", "store": "pgvector" if args.postgres else "turso", "totals": totals,
            "errors": errors, "probes": results}, 0 if complete else 1


# ---------------------------------------------------------------- cognify

def scripted_llm():
    """Replaces cognee's one door to structured LLM output with a deterministic stand-in."""
    import typing
    from pydantic import BaseModel
    from cognee.infrastructure.llm.LLMGateway import LLMGateway

    def names(text):
        seen = []
        for m in re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*", text):
            name = m.group(0)
            if name.split()[0] in {"The", "A", "An", "In", "On", "At", "And", "But", "What", "Where", "When", "Who", "Session", "Question", "Answer"}:
                continue
            if name not in seen:
                seen.append(name)
        return seen[:6]

    def first_sentence(text):
        text = " ".join(text.split())
        m = re.search(r"[^.!?]*[.!?]", text)
        return (m.group(0) if m else text)[:200].strip() or "Nothing."

    def fill(annotation, text):
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Union or str(origin) == "types.UnionType":
            inner = [a for a in args if a is not type(None)]
            return fill(inner[0], text) if inner else None
        if origin in (list, typing.List):
            return []
        if origin in (dict, typing.Dict):
            return {}
        if origin is typing.Literal:
            return args[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return build(annotation, text)
        if annotation is str:
            return first_sentence(text)
        if annotation is int:
            return 0
        if annotation is float:
            return 0.0
        if annotation is bool:
            return False
        return None

    def build(model, text):
        fields = getattr(model, "model_fields", {})
        data = {}
        if "nodes" in fields and "edges" in fields:
            found = names(text)
            data["nodes"] = [{"id": n, "name": n, "type": "Person" if i % 2 == 0 else "Place",
                              "description": f"{n}, named in the text", "label": n} for i, n in enumerate(found)]
            data["edges"] = [{"source_node_id": a, "target_node_id": b, "relationship_name": "mentioned_with",
                              "description": f"{a} is mentioned with {b}."} for a, b in zip(found, found[1:])]
        for name, field in fields.items():
            if name in data or not field.is_required():
                continue
            data[name] = fill(field.annotation, text)
        return model.model_validate(data)

    async def fake(text_input, system_prompt, response_model, **kwargs):
        if response_model is str:
            return first_sentence(text_input)
        return build(response_model, text_input)

    def acreate_structured_output(text_input, system_prompt, response_model, **kwargs):
        return fake(text_input, system_prompt, response_model, **kwargs)

    LLMGateway.acreate_structured_output = staticmethod(acreate_structured_output)


async def snapshot(args):
    """Every graph node (id -> properties), edge key and vector row id per collection."""
    from cognee.infrastructure.databases.graph import get_graph_engine
    graph = await get_graph_engine()
    nodes, edges = await graph.get_graph_data()
    out = {"nodes": {str(n[0]): n[1] for n in nodes},
           "edges": {f"{e[0]}|{e[2]}|{e[1]}": e[3] if len(e) > 3 else {} for e in edges},
           "vectors": {}}
    if args.postgres:
        import asyncpg
        connection = await asyncpg.connect(args.postgres)
        try:
            tables = await connection.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'vector' "
                "AND udt_name = 'vector'")
            for (table,) in tables:
                rows = await connection.fetch(f'SELECT id::text, payload::json->>\'text\' FROM public."{table}"')
                out["vectors"][table] = {r[0]: r[1] for r in rows}
        finally:
            await connection.close()
    else:
        # One process: cognee's turso adapters are idle between its calls.
        import turso
        con = turso.connect(os.environ["VECTOR_DB_URL"])
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%F32_BLOB%'").fetchall()]
            for table in tables:
                rows = con.execute(f"SELECT id, json_extract(payload, '$.text') FROM \"{table}\"").fetchall()
                out["vectors"][table.lower()] = {str(r[0]): r[1] for r in rows}
        finally:
            con.close()
    return out


def strip_times(properties):
    if not isinstance(properties, dict):
        return properties
    return {k: v for k, v in properties.items() if k not in ("created_at", "updated_at")}


async def cognify(args):
    import cognee
    from cognee.modules.users.methods import get_default_user
    from cognee.modules.data.methods import get_datasets_by_name

    scripted_llm()
    before = await snapshot(args)
    if not before["nodes"]:
        return {"mode": "cognify", "problems": ["the graph is empty: nothing pre-existing to protect"]}, 2
    existing = [p.get("name") for p in before["nodes"].values() if p.get("type") == "Entity" and p.get("name")]
    pick = [str(n).title() for n in existing[:2]] or ["Nobody"]
    texts = [f"{' and '.join(pick)} met at the Observatory of Kelmarsh in the spring.",
             "Orlanda Vire keeps bees near the Tessaly river and sells honey in Brakwater."]
    await cognee.add(texts, dataset_name="cognee_interop_own")
    await cognee.cognify(datasets=["cognee_interop_own"])
    cognified = await snapshot(args)
    user = await get_default_user()
    datasets = await get_datasets_by_name(["cognee_interop_own"], user.id)
    dataset = datasets[0]
    data = await cognee.datasets.list_data(dataset.id, user=user)
    # The data item of the first text: cognee names text items text_<md5 of the text>.
    import hashlib
    digest = hashlib.md5(texts[0].encode()).hexdigest()
    first = next((d for d in data if digest in (getattr(d, "name", "") or "")), None)
    if first is None:
        return {"mode": "cognify", "problems": [f"cognee's data items {[getattr(d, 'name', d) for d in data]} hold no text_{digest}"]}, 2
    await cognee.datasets.delete_data(dataset.id, first.id, user=user)
    after = await snapshot(args)

    problems, changed = [], []
    for node_id, props in before["nodes"].items():
        if node_id not in after["nodes"]:
            problems.append(f"node {node_id} ({props.get('type')} {props.get('name')!r}) is gone")
        elif strip_times(after["nodes"][node_id]) != strip_times(props):
            changed.append(f"node {node_id} ({props.get('type')} {props.get('name')!r})")
    for key in before["edges"]:
        if key not in after["edges"]:
            problems.append(f"edge {key} is gone")
    for table, rows in before["vectors"].items():
        now = after["vectors"].get(table, {})
        for row_id, text in rows.items():
            if row_id not in now:
                problems.append(f"vector row {table}/{row_id} ({text!r}) is gone")
    added_by_cognee = set(cognified["nodes"]) - set(before["nodes"])
    removed_by_delete = set(cognified["nodes"]) - set(after["nodes"])
    if not added_by_cognee:
        problems.append("cognee's cognify added no node: the check proves nothing")
    if not removed_by_delete:
        problems.append("cognee's delete removed no node: the check proves nothing")
    return {"mode": "cognify", "store": "pgvector" if args.postgres else "turso",
            "before": {"nodes": len(before["nodes"]), "edges": len(before["edges"]),
                       "vectors": {t: len(r) for t, r in before["vectors"].items()}},
            "after_cognify": {"nodes": len(cognified["nodes"]), "edges": len(cognified["edges"])},
            "after_delete": {"nodes": len(after["nodes"]), "edges": len(after["edges"]),
                             "vectors": {t: len(r) for t, r in after["vectors"].items()}},
            "shared_entities_named": pick, "deleted_data_id": str(first.id),
            "nodes_added_by_cognify": len(added_by_cognee), "nodes_removed_by_delete": len(removed_by_delete),
            "changed": changed, "problems": problems}, 0 if not problems else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["search", "cognify"])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres", metavar="URL")
    where.add_argument("--turso", metavar="FILE")
    parser.add_argument("--embedding-endpoint", required=True)
    parser.add_argument("--embedding-model", required=True)
    parser.add_argument("--embedding-dimensions", type=int, required=True)
    parser.add_argument("--probes", help="search: the probes JSON file")
    parser.add_argument("--top-k", type=int, default=5, help="search: GraphCompletionRetriever top_k")
    try:
        args = parser.parse_args()
    except SystemExit as exit:
        report({"error": "usage", "usage": parser.format_usage()}, 2 if exit.code else 0)
    if args.mode == "search" and not args.probes:
        report({"error": "search needs --probes"}, 2)
    root = configure(args)
    try:
        result, status = asyncio.run(search(args) if args.mode == "search" else cognify(args))
    except Exception as error:
        report({"mode": args.mode, "error": repr(error), "trace": traceback.format_exc()[-3000:], "root": root}, 2)
    result["root"] = root
    report(result, status)


if __name__ == "__main__":
    main()
