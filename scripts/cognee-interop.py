#!/usr/bin/env python3
"""Reads a graph that memify-worker wrote to PostgreSQL with cognee 1.6.5's own code.

    cognee-interop.py POSTGRES_URL EXPECTATIONS_JSON

cognee is configured as a deployment with access control off would be
(GRAPH_DATABASE_PROVIDER=postgres, one shared graph in the URL's database, public schema).
The script checks, and prints as one JSON line:
  - cognee's graph engine (`get_graph_data`) returns every expected node id and edge;
  - node properties come back as cognee's retrievers see them (type, name, text);
  - a CHUNKS_LEXICAL search (cognee's BM25ChunksRetriever) finds the expected chunk by a phrase.
Exit status 0 when everything holds, 1 otherwise. Run it with the python of a virtualenv that
has `cognee==1.6.5` (scripts/cognee-venv creates one).
"""
import asyncio, json, os, sys, tempfile
from urllib.parse import urlparse


def configure(url):
    u = urlparse(url)
    os.environ.update({
        "GRAPH_DATABASE_PROVIDER": "postgres",
        "GRAPH_DATABASE_HOST": u.hostname or "127.0.0.1",
        "GRAPH_DATABASE_PORT": str(u.port or 5432),
        "GRAPH_DATABASE_USERNAME": u.username or "postgres",
        "GRAPH_DATABASE_PASSWORD": u.password or "unused-with-trust-auth",
        "GRAPH_DATABASE_NAME": u.path.lstrip("/"),
        "ENABLE_BACKEND_ACCESS_CONTROL": "false",
        "LLM_API_KEY": os.environ.get("LLM_API_KEY", "not-used"),
        "TELEMETRY_DISABLED": "1",
    })
    root = tempfile.mkdtemp(prefix="cognee-interop-")
    os.environ.setdefault("SYSTEM_ROOT_DIRECTORY", os.path.join(root, "system"))
    os.environ.setdefault("DATA_ROOT_DIRECTORY", os.path.join(root, "data"))


async def main(url, expectations):
    from cognee.infrastructure.databases.graph import get_graph_engine
    from cognee.modules.retrieval.bm25_retriever import BM25ChunksRetriever

    engine = await get_graph_engine()
    nodes, edges = await engine.get_graph_data()
    node_by_id = {str(n[0]): n[1] for n in nodes}
    edge_keys = {(str(e[0]), str(e[1]), e[2]) for e in edges}
    problems = []
    for node in expectations["nodes"]:
        got = node_by_id.get(node["id"])
        if got is None:
            problems.append(f"node {node['id']} ({node['type']}) not returned by cognee")
            continue
        for field in ("type", "name"):
            if str(got.get(field, "")) != node[field]:
                problems.append(f"node {node['id']}: {field} {got.get(field)!r} != {node[field]!r}")
    for s, t, r in expectations["edges"]:
        if (s, t, r) not in edge_keys:
            problems.append(f"edge {s} -{r}-> {t} not returned by cognee")

    retriever = BM25ChunksRetriever(top_k=3)
    found = await retriever.get_retrieved_objects(expectations["phrase"])
    ids = [str(obj.get("id")) if isinstance(obj, dict) else str(getattr(obj, "id", obj)) for obj in (found or [])]
    if expectations["chunk_id"] not in ids[:1]:
        problems.append(f"CHUNKS_LEXICAL for {expectations['phrase']!r} returned {ids}, expected {expectations['chunk_id']} first")
    print(json.dumps({"nodes_read": len(nodes), "edges_read": len(edges), "lexical_hits": ids, "problems": problems}))
    return 0 if not problems else 1


if __name__ == "__main__":
    configure(sys.argv[1])
    with open(sys.argv[2]) as f:
        sys.exit(asyncio.run(main(sys.argv[1], json.load(f))))
