#!/usr/bin/env python3
"""Writes a cognee 1.6.5 SQL session cache (SQLite or PostgreSQL) with cognee's own code,
plants corrupt rows beside it with a raw client, and records what cognee reads back.

    .cognee-venv/bin/python scripts/gen-sql-cache-fixtures.py --backend sqlite --out DIR
    .cognee-venv/bin/python scripts/gen-sql-cache-fixtures.py --backend postgres --out DIR \
        --pg-url postgresql://postgres@127.0.0.1:PORT/memify_test

Everything valid is written through cognee's session layer: SessionManager.add_qa /
update_qa / add_feedback / delete_feedback / delete_qa / delete_session,
add_agent_trace_step, create/update_session_context_entry, the persist watermark, and
cognee.session.add_feedback / delete_feedback (the SDK), all on the SqlCacheAdapter that
cognee's get_cache_engine() picks for CACHE_BACKEND=sqlite|postgres. No LLM, no network:
the socket layer refuses anything but loopback, the vector side-index (embeddings) and the
relational session_records heartbeat are stubbed out (they live outside the cache).

Output in --out:
  sqlite:   cache.db (checkpointed, journal_mode=DELETE, vacuumed) and expected.json
  postgres: cache_qa_entries.sql (pg_dump of every cache_* table: DDL + COPY data) and
            expected.json
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import urlparse, urlunparse

SEED = 20261207
SCRIPT = "scripts/gen-sql-cache-fixtures.py"

# --------------------------------------------------------------------------------------
# Network guard: loopback and unix sockets only.
# --------------------------------------------------------------------------------------
BLOCKED = []
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback(addr):
    if isinstance(addr, (str, bytes)):  # AF_UNIX path
        return True
    host = addr[0] if isinstance(addr, tuple) and addr else ""
    return host in _LOOPBACK_NAMES or str(host).startswith("127.")


_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex
_orig_getaddrinfo = socket.getaddrinfo


def _guard_connect(self, addr):
    if not _is_loopback(addr):
        BLOCKED.append(repr(addr))
        raise OSError(f"network blocked by fixture generator: {addr!r}")
    return _orig_connect(self, addr)


def _guard_connect_ex(self, addr):
    if not _is_loopback(addr):
        BLOCKED.append(repr(addr))
        return 111
    return _orig_connect_ex(self, addr)


def _guard_getaddrinfo(host, *a, **k):
    h = host.decode() if isinstance(host, bytes) else host
    if h is not None and h not in _LOOPBACK_NAMES and not str(h).startswith("127."):
        BLOCKED.append(f"getaddrinfo({h!r})")
        raise socket.gaierror(f"name resolution blocked by fixture generator: {h!r}")
    return _orig_getaddrinfo(host, *a, **k)


socket.socket.connect = _guard_connect
socket.socket.connect_ex = _guard_connect_ex
socket.getaddrinfo = _guard_getaddrinfo


# --------------------------------------------------------------------------------------
# Text corpus (same flavour as the redis/fs fixtures)
# --------------------------------------------------------------------------------------
VOCAB = (
    "graph node edge vector cache redis session memory triplet chunk cognify dataset ontology "
    "pipeline retrieval summary entity relation schema index embedding partition shard replica "
    "backup archive ledger invoice customer tenant user agent trace feedback weight score rule "
    "lesson goal preference context answer query search storage disk latency cluster galaxy "
    "planet orbit river mountain lighthouse harbor violin sonata theorem proof molecule enzyme "
    "protein warehouse shipment order keyword document library snapshot migration lineage "
    "provenance permission"
).split()
SPECIALS = [
    "Grüße aus München — Straße, Maß, Öl",
    "façade naïve café crème brûlée",
    "日本語のテキストと漢字",
    "中文会话记忆测试",
    "한국어 문장 테스트",
    "Привет, мир! Ёлка",
    "مرحبا بالعالم (RTL)",
    "שלום עולם",
    "नमस्ते दुनिया",
    "Ελληνικά: αβγδ",
    "emoji 😀🎉🚀🧠",
    "flags 🇩🇪🇯🇵🇧🇷",
    "thumbs 👍🏻👍🏿",
    "family 👨\u200d👩\u200d👧\u200d👦 ZWJ",
    "astral math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𓀀 🀄",
    "combining e\u0301 vs precomposed é",
    "zero\u200bwidth\u200bspace and NBSP\u00a0here",
    "line separator\u2028and para separator\u2029end",
    "control chars \u0001\u0007\u001b\u001f\u007f end",
    'quotes "double" \'single\' `back`',
    '<b>html</b> &amp; {"json": [1, 2]}',
    "back\\slash \\n literal",
    "℃ ½ ™ © ∞ ≠ ≤ √ ∑ Π",
]
QUESTION_TEMPLATES = [
    "What do we know about {a}?",
    "How is {a} related to {b}?",
    "Summarize {a} in three bullet points.",
    "Why did {a} change after the last run of {b}?",
    "List every {a} connected to {b}.",
    "Can you explain {a} like I'm five? {s}",
    "{s} — what does this mean for {a}?",
]
TOPICS = [
    "the knowledge graph", "session memory", "the Redis cache", "orbital mechanics",
    "protein folding", "the quarterly report", "dataset permissions", "the ingestion pipeline",
    "entity extraction", "the invoice backlog",
]


class Text:
    def __init__(self, rng):
        self.rng = rng

    def words(self, n):
        return " ".join(self.rng.choice(VOCAB) for _ in range(n))

    def sentence(self):
        r = self.rng
        w = self.words(r.randint(4, 16))
        if r.random() < 0.35:
            w += " " + r.choice(SPECIALS)
        return w[:1].upper() + w[1:] + r.choice([".", ".", "!", "?"])

    def paragraph(self, n=None):
        return " ".join(self.sentence() for _ in range(n or self.rng.randint(1, 5)))

    def answer(self):
        r = self.rng
        parts = [self.paragraph() for _ in range(r.randint(1, 3))]
        return "\n\n".join(parts)

    def question(self):
        r = self.rng
        return r.choice(QUESTION_TEMPLATES).format(
            a=r.choice(TOPICS), b=r.choice(TOPICS), s=r.choice(SPECIALS))

    def context(self):
        r = self.rng
        if r.random() < 0.3:
            return ""
        lines = []
        for _ in range(r.randint(1, 12)):
            a, b, rel = r.choice(VOCAB).title(), r.choice(VOCAB).title(), r.choice(VOCAB)
            if r.random() < 0.15:
                b = r.choice(SPECIALS).title()
            lines.append(f"Node: {a} --[{rel}_of]--> Node: {b}")
        return "\n".join(lines)

    def long_text(self, size):
        out = []
        n = 0
        while n < size:
            s = self.sentence() + " "
            out.append(s)
            n += len(s)
        return "".join(out)[:size]


# --------------------------------------------------------------------------------------
# Environment for cognee (must be set before cognee is imported)
# --------------------------------------------------------------------------------------
def configure_env(args, work):
    empty_env = os.path.join(work, "empty.env")
    open(empty_env, "w").close()
    env = {
        "COGNEE_ENV_FILE": empty_env,
        "CACHING": "true",
        "AUTO_FEEDBACK": "false",
        "USAGE_LOGGING": "true",
        "USAGE_LOGGING_TTL": "604800",
        "SESSION_TTL_SECONDS": "604800",
        "CACHE_PURGE_INTERVAL_SECONDS": "900",
        "SYSTEM_ROOT_DIRECTORY": os.path.join(work, "system"),
        "DATA_ROOT_DIRECTORY": os.path.join(work, "data"),
        "DB_PATH": os.path.join(work, "databases"),
        "TELEMETRY_DISABLED": "1",
        "ENV": "test",
        "LLM_API_KEY": "not-used",
        "ENABLE_BACKEND_ACCESS_CONTROL": "false",
    }
    if args.backend == "sqlite":
        env["CACHE_BACKEND"] = "sqlite"
        os.environ.pop("CACHE_DB_URL", None)
    else:
        env["CACHE_BACKEND"] = "postgres"
        env["CACHE_DB_URL"] = args.cognee_url
    os.environ.update(env)
    return {k: env[k] for k in ("CACHE_BACKEND", "CACHING", "AUTO_FEEDBACK", "USAGE_LOGGING",
                                "SESSION_TTL_SECONDS", "CACHE_PURGE_INTERVAL_SECONDS")}


def err(e):
    return {"ok": False, "error_type": type(e).__name__, "error": str(e),
            **({"cause_type": type(e.__cause__).__name__, "cause": str(e.__cause__)}
               if e.__cause__ is not None else {})}


def dump_entry(e):
    return e.model_dump(mode="json")


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------
class Gen:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.rng = random.Random(SEED)
        self.text = Text(self.rng)
        self.sessions = []  # session records, in creation order
        self.stub_calls = {"index_session_qa": 0, "delete_session_qa_vector": 0,
                           "delete_session_qa_vectors": 0, "record_session_activity": 0}

    # -- cognee plumbing ---------------------------------------------------------------
    def import_cognee(self):
        import cognee  # noqa: F401  (loads env file, logging)
        import cognee.infrastructure.session.session_manager as smmod
        from cognee.infrastructure.databases.cache.config import get_cache_config
        from cognee.infrastructure.databases.cache.get_cache_engine import (
            create_cache_engine, get_cache_engine)
        from cognee.infrastructure.session.get_session_manager import get_session_manager
        from cognee.infrastructure.session.session_manager import SessionManager
        import cognee.api.v1.session.session as sdk

        async def _index(**kw):
            self.stub_calls["index_session_qa"] += 1

        async def _del_one(**kw):
            self.stub_calls["delete_session_qa_vector"] += 1

        async def _del_all(**kw):
            self.stub_calls["delete_session_qa_vectors"] += 1

        async def _activity(*a, **kw):
            self.stub_calls["record_session_activity"] += 1

        smmod.index_session_qa = _index
        smmod.delete_session_qa_vector = _del_one
        smmod.delete_session_qa_vectors = _del_all
        smmod.record_session_activity = _activity
        self.smmod = smmod
        self.get_cache_config = get_cache_config
        self.create_cache_engine = create_cache_engine
        self.get_cache_engine = get_cache_engine
        self.get_session_manager = get_session_manager
        self.SessionManager = SessionManager
        self.sdk = sdk
        import cognee as c
        self.cognee_version = getattr(c, "__version__", None)
        try:
            from importlib.metadata import version
            self.cognee_version = version("cognee")
        except Exception:
            pass

    def manager(self, ttl=None, dataset_id=None):
        """A SessionManager on the adapter get_cache_engine() returns for this TTL."""
        os.environ["SESSION_TTL_SECONDS"] = str(604800 if ttl is None else ttl)
        self.get_cache_config.cache_clear()
        sm = self.get_session_manager(dataset_id=dataset_id)
        os.environ["SESSION_TTL_SECONDS"] = "604800"
        self.get_cache_config.cache_clear()
        return sm

    # -- users -------------------------------------------------------------------------
    def make_users(self):
        r = random.Random(SEED + 1)
        default = str(uuid.UUID(int=r.getrandbits(128), version=4))
        self.users = {
            "default": default,
            "alice": str(uuid.uuid5(uuid.NAMESPACE_DNS, "alice.cognee-fixtures.test")),
            "bob": str(uuid.uuid5(uuid.NAMESPACE_DNS, "bob.cognee-fixtures.test")),
            "carol": str(uuid.uuid5(uuid.NAMESPACE_DNS, "carol.cognee-fixtures.test")),
            "cli": "cli-user-42",
        }
        self.user_objs = {a: SimpleNamespace(id=(uuid.UUID(u) if a != "cli" else u))
                          for a, u in self.users.items()}
        self.dataset_id = uuid.uuid5(uuid.NAMESPACE_DNS, "main_dataset.cognee-fixtures.test")

    # -- session bookkeeping -----------------------------------------------------------
    def new_session(self, alias, session_id, category, *, session_id_arg="same", ttl=604800,
                    dataset=False):
        s = {
            "user_alias": alias,
            "user_id": self.users[alias],
            "session_id": session_id,
            "session_id_arg": session_id if session_id_arg == "same" else session_id_arg,
            "category": category,
            "session_ttl_seconds": ttl,
            "history": [],
            "deleted_qa_ids": [],
            "_qa_ids": [],
            "_ops": [],
            "_dataset": dataset,
        }
        s["_sm"] = self.manager(ttl=ttl, dataset_id=self.dataset_id if dataset else None)
        self.sessions.append(s)
        return s

    async def op_add(self, s, question=None, context=None, answer=None, **extra):
        t = self.text
        q = t.question() if question is None else question
        c = t.context() if context is None else context
        a = t.answer() if answer is None else answer
        try:
            qa_id = await s["_sm"].add_qa(user_id=s["user_id"], question=q, context=c, answer=a,
                                          session_id=s["session_id_arg"], **extra)
        except Exception as e:
            s["history"].append({"op": "add_failed", **err(e)})
            return None
        s["_qa_ids"].append(qa_id)
        s["history"].append({"op": "add", "qa_id": qa_id})
        return qa_id

    async def op_update(self, s, qa_id, **fields):
        ok = await s["_sm"].update_qa(user_id=s["user_id"], qa_id=qa_id,
                                      session_id=s["session_id"], **fields)
        s["history"].append({"op": "update", "qa_id": qa_id, "fields": sorted(fields), "result": ok})
        return ok

    async def op_feedback_api(self, s, qa_id, text, score):
        try:
            ok = await self.sdk.add_feedback(s["session_id"], qa_id, feedback_text=text,
                                             feedback_score=score, user=self.user_objs[s["user_alias"]])
            s["history"].append({"op": "feedback_api", "qa_id": qa_id, "feedback_text": text,
                                 "feedback_score": score, "result": ok})
        except Exception as e:
            s["history"].append({"op": "feedback_api_failed", "qa_id": qa_id, **err(e)})

    async def op_feedback_sm(self, s, qa_id, text, score):
        try:
            ok = await s["_sm"].add_feedback(user_id=s["user_id"], qa_id=qa_id, feedback_text=text,
                                             feedback_score=score, session_id=s["session_id"])
            s["history"].append({"op": "feedback_sm", "qa_id": qa_id, "feedback_text": text,
                                 "feedback_score": score, "result": ok})
        except Exception as e:
            s["history"].append({"op": "feedback_sm_failed", "qa_id": qa_id, **err(e)})

    async def op_delete_feedback_api(self, s, qa_id):
        ok = await self.sdk.delete_feedback(s["session_id"], qa_id, user=self.user_objs[s["user_alias"]])
        s["history"].append({"op": "delete_feedback_api", "qa_id": qa_id, "result": ok})

    async def op_delete_qa(self, s, qa_id):
        ok = await s["_sm"].delete_qa(user_id=s["user_id"], qa_id=qa_id, session_id=s["session_id"])
        s["history"].append({"op": "delete_qa", "qa_id": qa_id, "result": ok})
        if ok:
            s["deleted_qa_ids"].append(qa_id)
            s["_qa_ids"].remove(qa_id)

    async def op_trace(self, s, **kw):
        tid = await s["_sm"].add_agent_trace_step(user_id=s["user_id"], session_id=s["session_id"],
                                                  generate_feedback_with_llm=False, **kw)
        s["history"].append({"op": "trace", "trace_id": tid})
        return tid

    # -- corpus ------------------------------------------------------------------------
    def plan(self):
        """Builds, per session, a list of async op thunks; they run interleaved."""
        r = self.rng
        t = self.text
        U = self.users

        def add_ops(s, n, **kw):
            for _ in range(n):
                s["_ops"].append(lambda s=s: self.random_add(s))

        # 1. default_session via session_id=None
        s = self.new_session("default", "default_session",
                             "default_session via session_id=None (no dataset context)",
                             session_id_arg=None)
        add_ops(s, 12)
        s["_ops"].append(lambda s=s: self.op_feedback_api(s, s["_qa_ids"][3], "Spot on, thanks! 👍", 5))
        # 2. default_session_<dataset>
        s = self.new_session("default", f"default_session_{self.dataset_id}",
                             "default_session_<dataset_id> via session_id=None in a dataset",
                             session_id_arg=None, dataset=True)
        add_ops(s, 4)
        # 3. alice explicit default_session
        s = self.new_session("alice", "default_session", "explicit 'default_session' for another user")
        add_ops(s, 3)

        # 4. generated sessions
        aliases = list(U)
        patterns = [
            lambda i: f"chat-{i:04d}",
            lambda i: str(uuid.UUID(int=r.getrandbits(128), version=4)),
            lambda i: f"project:alpha:{i}",
            lambda i: f"sess_{i}_ünïcödé_📚",
            lambda i: f"Support Ticket #{i} (urgent)",
            lambda i: f"S{i}",
        ]
        for i in range(22):
            alias = r.choice(aliases)
            sid = patterns[i % len(patterns)](i)
            n = r.choice([1, 3, 5, 8, 12, 17, 20, 25, 33, 40])
            s = self.new_session(alias, sid, f"generated ({n} adds)")
            add_ops(s, n)
            for _ in range(max(1, n // 6)):
                s["_ops"].insert(r.randint(1, len(s["_ops"])), lambda s=s: self.random_edit(s))

        # 5. special session ids
        specials = [
            ("alice", "glob*?[chars]\\and/slash%", "session id with glob/escape characters"),
            ("bob", "like%_wild*?[set]\\back/slash", "session id with SQL LIKE wildcards % and _"),
            ("carol", "a:b:c::d:", "session id made of colons"),
            ("default", "emoji 🧠 spaced id ✨", "session id with emoji and spaces"),
            ("cli", "Café Müller — naïve 日本", "session id with accents, dash and CJK"),
            ("default", " leading and trailing ", "session id with leading/trailing spaces"),
            ("bob", "slash/only/path", "session id with slashes"),
            ("carol", "very-long-session-id-" + "x" * 120 + "-ünï-🧠-end", "very long session id"),
        ]
        for alias, sid, cat in specials:
            s = self.new_session(alias, sid, cat)
            add_ops(s, r.randint(2, 4))

        # 6. long answers
        s = self.new_session("default", "long-answers", "~20 KB answers and a ~60 KB context")
        s["_ops"] += [
            lambda s=s: self.op_add(s, answer=t.long_text(20000), context=t.context()),
            lambda s=s: self.op_add(s, answer=t.long_text(21000), context=""),
            lambda s=s: self.op_add(s, answer=t.long_text(19500), context=t.long_text(61000)),
            lambda s=s: self.op_add(s, question="Short one?", context="", answer="Yes."),
        ]
        s = self.new_session("default", "single-long-answer", "one ~20 KB answer")
        s["_ops"].append(lambda s=s: self.op_add(s, answer=t.long_text(20480)))

        # 7. edge text
        s = self.new_session("bob", "edge-text",
                             "empty strings, whitespace, JSON-special, control chars, NUL, U+2028, astral")
        edge = [
            dict(question="Empty context and empty answer", context="", answer=""),
            dict(question="", context="", answer="Empty question"),
            dict(question="   \t\n  ", context="\n\n", answer="  leading and trailing  "),
            dict(question='He said "hi" \\ and left', context='{"not": "parsed"}',
                 answer="Line1\nLine2\r\nLine3\tTabbed\u0000NUL\u001fUS"),
            dict(question="NUL only in the question \u0000", context="", answer="NUL above"),
            dict(question="Separators", context="a\u2028b\u2029c\u0085d",
                 answer="U+2028 [\u2028] U+2029 [\u2029] NEL [\u0085] BOM [\ufeff] DEL [\u007f]"),
            dict(question=" | ".join(SPECIALS[:10]), context=" | ".join(SPECIALS[10:]),
                 answer=" ".join(SPECIALS)),
            dict(question="Astral only: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧠 𓀀 🀄 👨\u200d👩\u200d👧\u200d👦", context="🇩🇪",
                 answer="🂡" * 50),
            dict(question="Q" * 5000, context="", answer="A very long question."),
            dict(question="Score edges", context="", answer="min", feedback_score=1),
            dict(question="Score edges", context="", answer="max", feedback_text="", feedback_score=5),
        ]
        for kw in edge:
            s["_ops"].append(lambda s=s, kw=kw: self.op_add(s, **kw))

        # 8. remember-style notes
        s = self.new_session("cli", "remember-notes",
                             "what cognee.remember(text, session_id=...) stores: question='' context='' answer=text")
        for _ in range(4):
            s["_ops"].append(lambda s=s: self.op_add(s, question="", context="", answer=t.paragraph()))

        # 9. feedback lifecycle
        s = self.new_session("alice", "feedback-lifecycle", "feedback at creation, add/replace/delete feedback")
        creations = [dict(question="First?", context="c0", answer="a0"),
                     dict(question="Second?", context="c1", answer="a1", feedback_score=3),
                     dict(question="Third?", context="", answer="a2", feedback_text="text only"),
                     dict(question="Fourth?", context="c3", answer="a3"),
                     dict(question="Fifth?", context="c4", answer="a4"),
                     dict(question="Sixth?", context="c5", answer="a5", feedback_text="at creation",
                          feedback_score=2)]
        for kw in creations:
            s["_ops"].append(lambda s=s, kw=kw: self.op_add(s, **kw))
        qf = lambda i, s=s: s["_qa_ids"][i]  # noqa: E731
        s["_ops"] += [
            lambda s=s: self.op_feedback_api(s, qf(3), "Wrong year — it was 1969 🌕", 2),
            lambda s=s: self.op_feedback_api(s, qf(3), None, 4),
            lambda s=s: self.op_delete_feedback_api(s, qf(0)),
            lambda s=s: self.op_feedback_api(s, qf(4), "Needs sources.", None),
            lambda s=s: self.op_feedback_sm(s, qf(5), "replaced via SessionManager", 5),
            lambda s=s: self.op_feedback_api(s, qf(1), None, 1),
            lambda s=s: self.op_delete_feedback_api(s, qf(1)),
            lambda s=s: self.op_delete_feedback_api(s, qf(2)),
        ]

        # 10. updates in place
        s = self.new_session("carol", "updates", "entries updated after creation (update_qa)")
        add_ops(s, 6)
        qu = lambda i, s=s: s["_qa_ids"][i]  # noqa: E731
        s["_ops"] += [
            lambda s=s: self.op_update(s, qu(0), answer="Rewritten answer ✍️"),
            lambda s=s: self.op_update(s, qu(1), question="Rewritten question?", context="Rewritten context"),
            lambda s=s: self.op_update(s, qu(2), memify_metadata={"feedback_weights_applied": True}),
            lambda s=s: self.op_update(s, qu(2), memify_metadata={
                "feedback_weights_applied_node_ids": ["n-1", "n-2"],
                "feedback_weights_applied_edge_ids": [],
                "feedback_weights_applied_score": 4,
                "feedback_weights_applied_source": "explicit",
                "feedback_weights_attempts": 2}),
            lambda s=s: self.op_update(s, qu(3), used_graph_element_ids={"node_ids": ["node-A", "node-B"]},
                                       feedback_text="edited feedback 🧾"),
            lambda s=s: self.op_update(s, qu(4), context=""),
            lambda s=s: self.op_update(s, qu(5), feedback_score=3, used_session_context_ids=["ctx-1", "ctx-2"]),
            lambda s=s: self.op_update(s, qu(0), answer=t.long_text(20000)),
        ]

        # 11. deletions first / middle / last
        s = self.new_session("default", "deletions", "8 adds, first/middle/last deleted (delete_qa)")
        add_ops(s, 8)
        s["_ops"] += [
            lambda s=s: self.op_delete_qa(s, s["_qa_ids"][0]),
            lambda s=s: self.op_delete_qa(s, s["_qa_ids"][len(s["_qa_ids"]) // 2]),
            lambda s=s: self.op_delete_qa(s, s["_qa_ids"][-1]),
        ]
        s = self.new_session("bob", "deleted-all-entries", "every entry deleted (no rows left)")
        add_ops(s, 3)
        s["_ops"] += [lambda s=s: self.op_delete_qa(s, s["_qa_ids"][0]) for _ in range(3)]

        # 12. whole session deleted
        s = self.new_session("alice", "deleted-session", "QA + trace + context, then delete_session")
        add_ops(s, 5)
        s["_ops"] += [
            lambda s=s: self.op_trace(s, origin_function="search_docs", status="success",
                                      method_params={"q": "x"}, method_return_value={"ok": True}),
            lambda s=s: self.op_context(s, {"id": str(uuid.uuid4()), "kind": "context",
                                            "section": "rules", "content": "doomed"}),
            lambda s=s: self.op_delete_session(s),
        ]

        # 13. context rows and watermark
        s = self.new_session("default", "auto-feedback-turns",
                             "QA plus session_context rows (feedback/context), a context update and the persist watermark")
        s["_ops"].append(lambda s=s: self.context_turns(s))

        # 14. agent traces
        s = self.new_session("default", "agent-trace-run", "agent trace steps (cache_trace_entries) plus QA")
        s["_ops"].append(lambda s=s: self.trace_run(s))

        # 15. TTL disabled
        s = self.new_session("default", "no-ttl-persistent", "written with SESSION_TTL_SECONDS=0 (no expiry)", ttl=0)
        add_ops(s, 6)
        s["_ops"] += [lambda s=s: self.op_feedback_sm(s, s["_qa_ids"][2], "kept forever", 4),
                      lambda s=s: self.op_delete_qa(s, s["_qa_ids"][-1])]
        s = self.new_session("bob", "no-ttl-2", "written with SESSION_TTL_SECONDS=0 (no expiry)", ttl=0)
        add_ops(s, 3)

        # 16. one row planted as already expired (raw UPDATE after all writes)
        s = self.new_session("carol", "partially-expired",
                             "5 adds; afterwards the 3rd row's expires_at was set in the past with a raw UPDATE")
        add_ops(s, 5)
        s["_expire_index"] = 2

    async def random_add(self, s):
        r = self.rng
        extra = {}
        if r.random() < 0.15:
            extra["feedback_score"] = r.randint(1, 5)
        if r.random() < 0.08:
            extra["feedback_text"] = self.text.sentence()
        if r.random() < 0.15:
            extra["used_graph_element_ids"] = {
                "node_ids": [str(uuid.UUID(int=r.getrandbits(128), version=4)) for _ in range(r.randint(1, 3))],
                "edge_ids": [] if r.random() < 0.5 else [f"e-{r.randint(1, 99)}"]}
        if r.random() < 0.08:
            extra["used_session_context_ids"] = [str(uuid.UUID(int=r.getrandbits(128), version=4))]
        return await self.op_add(s, **extra)

    async def random_edit(self, s):
        r = self.rng
        if not s["_qa_ids"]:
            return
        qa = r.choice(s["_qa_ids"])
        k = r.random()
        if k < 0.3:
            await self.op_feedback_api(s, qa, r.choice([None, self.text.sentence()]), r.randint(1, 5))
        elif k < 0.55:
            await self.op_update(s, qa, answer=self.text.answer())
        elif k < 0.7:
            await self.op_update(s, qa, question=self.text.question(), context=self.text.context())
        elif k < 0.85:
            await self.op_delete_qa(s, qa)
        else:
            await self.op_delete_feedback_api(s, qa)

    async def op_context(self, s, row):
        ok = await s["_sm"].create_session_context_entry(user_id=s["user_id"], entry_dump=row,
                                                          session_id=s["session_id"])
        s["history"].append({"op": "context", "id": row.get("id"), "kind": row.get("kind"), "result": ok})

    async def op_delete_session(self, s):
        ok = await s["_sm"].delete_session(user_id=s["user_id"], session_id=s["session_id"])
        s["history"].append({"op": "delete_session", "result": ok})
        s["deleted_qa_ids"] += s["_qa_ids"]
        s["_qa_ids"] = []

    async def context_turns(self, s):
        from cognee.infrastructure.session.session_context_models import (
            SessionContextEntry, SessionFeedbackEntry)
        from cognee.infrastructure.session.session_persist_watermark import save_persisted_qa_count
        now = lambda: datetime.now(timezone.utc).isoformat()  # noqa: E731
        fb1 = str(uuid.uuid4())
        goal = SessionContextEntry(id=str(uuid.uuid4()), section="goals", content="Prepare a talk on graph memory.",
                                   confidence=0.9, created_at=now(), source_feedback_ids=[fb1])
        pref = SessionContextEntry(id=str(uuid.uuid4()), section="preferences", content="Keep answers brief.",
                                   confidence=0.85, created_at=now(), source_feedback_ids=[fb1])
        fb = SessionFeedbackEntry(id=fb1, created_at=now(),
                                  raw_text="I'm preparing a talk on graph memory; keep answers brief.",
                                  referenced_qa_ids=[], referenced_qa_rating=None,
                                  influencing_context_ids=[],
                                  candidate_context_entries=[
                                      {"section": "goals", "content": "Prepare a talk on graph memory.", "confidence": 0.9},
                                      {"section": "preferences", "content": "Keep answers brief.", "confidence": 0.85}])
        for row in (fb.model_dump(), goal.model_dump(), pref.model_dump()):
            await self.op_context(s, row)
        qa1 = await self.op_add(s, question="I'm preparing a talk on graph memory; keep answers brief.",
                                context="", answer="Got it.")
        qa2 = await self.op_add(s, question="Thanks, that was great. Now, what is a triplet?", context="",
                                answer="A (subject, relation, object) edge.",
                                used_session_context_ids=[goal.id, pref.id])
        fb2 = SessionFeedbackEntry(id=str(uuid.uuid4()), created_at=now(),
                                   raw_text="Thanks, that was great. Now, what is a triplet?",
                                   referenced_qa_ids=[qa1], referenced_qa_rating=5,
                                   influencing_context_ids=[goal.id, pref.id], candidate_context_entries=[])
        await self.op_context(s, fb2.model_dump())
        ok = await s["_sm"].update_session_context_entry(user_id=s["user_id"], entry_id=goal.id,
                                                         merge={"helpful_count": 1, "last_served_at": now()},
                                                         session_id=s["session_id"])
        s["history"].append({"op": "context_update", "id": goal.id, "result": ok})
        # upsert: same id again replaces the payload in place (SQL backends only)
        await self.op_context(s, {**pref.model_dump(), "harmful_count": 1, "content": "Keep answers brief!"})
        await self.op_add(s, question="Again: keep answers short.", context="", answer="Understood.",
                          used_graph_element_ids={"node_ids": ["n1"], "edge_ids": []})
        await save_persisted_qa_count(s["_sm"], s["user_id"], s["session_id"], 2)
        s["history"].append({"op": "watermark", "count": 2})
        await save_persisted_qa_count(s["_sm"], s["user_id"], s["session_id"], 3)
        s["history"].append({"op": "watermark", "count": 3})
        ok = await s["_sm"].delete_session_context_entry(user_id=s["user_id"], entry_id=fb2.id,
                                                         session_id=s["session_id"])
        s["history"].append({"op": "context_delete", "id": fb2.id, "result": ok})

    async def trace_run(self, s):
        await self.op_trace(s, origin_function="search_docs", status="success", memory_query="cache layer",
                            memory_context="Node: Cache --[part_of]--> Node: Cognee",
                            method_params={"query": "cache layer", "top_k": 5, "filters": {"lang": "en"}},
                            method_return_value={"hits": ["doc-1", "doc-2"], "took_ms": 12.5})
        await self.op_add(s)
        await self.op_trace(s, origin_function="call_tool", status="error",
                            method_params={"tool": "weather", "args": ["Zürich"]},
                            error_message="Timeout after 30s")
        await self.op_trace(s, origin_function="summarize", status="success", method_return_value="Résumé: 成功 ✅")
        await self.op_trace(s, origin_function="plan", status="success",
                            method_params={"steps": [1, 2, 3], "none": None, "flag": False},
                            method_return_value=[{"step": 1}, {"step": 2}])
        await self.op_trace(s, origin_function="big", status="success",
                            method_params={"blob": "x" * 3000, "many": list(range(40))},
                            method_return_value="y" * 1500)
        await self.op_add(s)

    async def run_ops(self):
        pending = [s for s in self.sessions if s["_ops"]]
        while pending:
            s = self.rng.choice(pending)
            op = s["_ops"].pop(0)
            await op(s)
            if not s["_ops"]:
                pending.remove(s)

    async def usage_logs(self):
        from cognee.shared.usage_logger import _log_usage_async
        t0 = datetime.now(timezone.utc)
        for i, alias in enumerate(["default", "alice", "default", "cli", "default"]):
            await _log_usage_async(function_name=f"POST API /v1/search #{i}", log_type="api_endpoint",
                                   user_id=self.users[alias], parameters={"query": f"q{i} ünï 🧠", "top_k": i},
                                   result={"hits": i}, success=i != 3, error="boom" if i == 3 else None,
                                   duration_ms=12.3456 + i, start_time=t0, end_time=datetime.now(timezone.utc))
        await self.get_cache_engine().set_value("somekey", "somevalue ünï", ttl=3600)
        await self.get_cache_engine().set_value("no-ttl-key", "forever", ttl=None)

    # -- raw plants --------------------------------------------------------------------
    def corrupt_plan(self):
        """(session_id, planted_value description, [row, ...]); row = (kind, value)."""
        good = lambda i: json.dumps({  # noqa: E731
            "time": f"2026-01-02T03:04:05.67890{i}+00:00", "question": f"planted valid entry {i}",
            "context": "", "answer": "ok", "qa_id": f"00000000-0000-4000-8000-00000000000{i}",
            "feedback_text": None, "feedback_score": None, "used_graph_element_ids": None,
            "memify_metadata": None, "used_session_context_ids": None})
        base = {"time": "2026-01-02T03:04:05.678901+00:00", "question": "q", "context": "", "answer": "a",
                "qa_id": "00000000-0000-4000-8000-0000000000aa"}
        sqlite_only = self.args.backend == "sqlite"
        plan = []
        if sqlite_only:
            plan.append(("corrupt__invalid_json", "TEXT that is not JSON", [("text", "not json {")]))
            plan.append(("corrupt__truncated_json", "TEXT: a JSON object cut off in the middle",
                         [("text", good(1)[:40])]))
        plan += [
            ("corrupt__json_array", "JSON array (of one valid entry) instead of an object",
             [("json", "[" + good(1) + "]")]),
            ("corrupt__json_string", "JSON string instead of an object", [("json", '"just a string"')]),
            ("corrupt__json_number", "JSON number 42 instead of an object"
             + (" (SQLite column affinity NUMERIC: stored as INTEGER 42)" if sqlite_only else ""),
             [("json", "42")]),
            ("corrupt__json_null", "JSON null instead of an object", [("json", "null")]),
            ("corrupt__missing_question", "object without 'question'",
             [("json", json.dumps({k: v for k, v in base.items() if k != "question"}))]),
            ("corrupt__missing_time", "object without 'time'",
             [("json", json.dumps({k: v for k, v in base.items() if k != "time"}))]),
            ("corrupt__feedback_score_string", "feedback_score \"x\"",
             [("json", json.dumps({**base, "feedback_score": "x"}))]),
            ("corrupt__feedback_score_out_of_range", "feedback_score 9",
             [("json", json.dumps({**base, "feedback_score": 9}))]),
            ("corrupt__feedback_score_numeric_string", "feedback_score \"4\" (pydantic lax mode coerces it)",
             [("json", json.dumps({**base, "feedback_score": "4"}))]),
            ("corrupt__time_not_a_date", "time \"not a date\" (time is a plain str field)",
             [("json", json.dumps({**base, "time": "not a date"}))]),
            ("corrupt__time_number", "time 1735689600 (a number)",
             [("json", json.dumps({**base, "time": 1735689600}))]),
            ("corrupt__answer_null", "answer null",
             [("json", json.dumps({**base, "answer": None}))]),
            ("corrupt__bad_graph_ids", "used_graph_element_ids with an unknown key",
             [("json", json.dumps({**base, "used_graph_element_ids": {"node_ids": [], "foo": []}}))]),
            ("corrupt__extra_keys", "valid entry plus unknown keys (dropped by the model)",
             [("json", json.dumps({**base, "unknown": 1, "nested": {"a": [1]}}))]),
            ("corrupt__minimal_legacy", "only time/question/context/answer, naive time (pre-1.5 shape)",
             [("json", json.dumps({"time": "2026-01-02T03:04:05.678901", "question": "old",
                                   "context": "", "answer": "legacy"}))]),
            ("corrupt__qa_id_column_mismatch", "valid entry whose qa_id column differs from payload qa_id",
             [("json_qa", (json.dumps(base), "ffffffff-ffff-4fff-8fff-ffffffffffff"))]),
        ]
        if sqlite_only:
            plan.append(("corrupt__invalid_utf8_blob", "BLOB payload, a JSON object with an invalid UTF-8 byte (0xFF)",
                         [("blob", good(1).replace("planted", "pl\udcffanted").encode("utf-8", "surrogateescape"))]))
            plan.append(("corrupt__valid_utf8_blob", "BLOB payload holding a valid UTF-8 JSON object",
                         [("blob", good(1).encode())]))
            plan.append(("corrupt__invalid_utf8_text", "TEXT payload with an invalid UTF-8 byte (0xFF) inside",
                         [("text_bytes", good(1).replace("planted", "pl\udcffanted").encode("utf-8", "surrogateescape"))]))
        mixed = [("json", good(1)), ("json", good(2)),
                 ("json", json.dumps({k: v for k, v in base.items() if k != "question"})),
                 ("json", good(3)), ("json", "[1, 2]"), ("json", good(4))]
        if sqlite_only:
            mixed.insert(4, ("text", "{not json"))
        plan.append(("corrupt__mixed_entries", "good rows with bad rows in the middle", mixed))
        if sqlite_only:
            plan.append(("corrupt__mixed_invalid_utf8", "good, TEXT with invalid UTF-8, good",
                         [("json", good(1)),
                          ("text_bytes", good(2).replace("planted", "pl\udcffanted").encode("utf-8", "surrogateescape")),
                          ("json", good(3))]))
        plan.append(("planted__expired_ttl", "valid rows whose expires_at is in the past (expired at generated_at)",
                     [("json_expired", good(1)), ("json_expired", good(2))]))
        return plan

    # -- reading back --------------------------------------------------------------------
    async def read_session(self, user_alias, user_id, session_id, adapter=None):
        out = {}
        sm = self.SessionManager(cache_engine=adapter) if adapter is not None else self.get_session_manager()
        try:
            got = await self.sdk.get_session(session_id=session_id, user=self.user_objs[user_alias])
            out["get_session"] = {"ok": True, "entries": [dump_entry(e) for e in got]}
        except Exception as e:
            out["get_session"] = err(e)
        for n in (1, 3):
            try:
                got = await sm.get_session(user_id=user_id, session_id=session_id, last_n=n)
                out[f"get_session_last_n_{n}"] = {"ok": True, "entries": [dump_entry(e) for e in got]}
            except Exception as e:
                out[f"get_session_last_n_{n}"] = err(e)
        try:
            out["get_session_formatted"] = await sm.get_session(user_id=user_id, session_id=session_id,
                                                                formatted=True)
        except Exception as e:
            out["get_session_formatted_error"] = err(e)
        return out

    async def row_verdict(self, seq):
        """cognee's own get_all_qa_entries (payload decode + SessionQAEntry) on one row."""
        from cognee.infrastructure.databases.cache.sql.tables import cache_qa_entries  # noqa: F401
        adapter = self.get_cache_engine()
        adapter._session_filter = lambda table, u, s: table.c.seq == seq
        try:
            got = await adapter.get_all_qa_entries("-", "-")
        except Exception as e:
            return err(e)
        finally:
            del adapter._session_filter
        if len(got) != 1:
            return {"ok": False, "error_type": "NotReturned", "error": f"{len(got)} rows returned"}
        return {"ok": True, "entry": dump_entry(got[0])}


# --------------------------------------------------------------------------------------
# Backend-specific raw access
# --------------------------------------------------------------------------------------
def sqlite_ts(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteRaw:
    def __init__(self, path):
        self.path = path

    def rows(self, table="cache_qa_entries"):
        con = sqlite3.connect(self.path)
        con.text_factory = bytes
        try:
            return con.execute(f"SELECT seq, user_id, session_id, expires_at FROM {table} ORDER BY seq").fetchall()
        finally:
            con.close()

    def session_rows(self):
        con = sqlite3.connect(self.path)
        con.text_factory = lambda b: b.decode("utf-8", "replace")
        try:
            return con.execute("SELECT seq, user_id, session_id, qa_id, expires_at FROM cache_qa_entries "
                               "ORDER BY seq").fetchall()
        finally:
            con.close()

    def expire_row(self, seq, when):
        con = sqlite3.connect(self.path, timeout=30)
        with con:
            con.execute("UPDATE cache_qa_entries SET expires_at = ? WHERE seq = ?", (sqlite_ts(when), seq))
        con.close()

    def plant(self, user_id, session_id, rows, now):
        con = sqlite3.connect(self.path, timeout=30)
        created = sqlite_ts(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc))
        expired = sqlite_ts(now - timedelta(hours=1))
        with con:
            for i, (kind, value) in enumerate(rows):
                qa_id = f"planted-{i}"
                expires = None
                if kind == "json_qa":
                    value, qa_id = value
                if kind == "json_expired":
                    expires = expired
                if kind in ("text_bytes",):
                    con.execute("INSERT INTO cache_qa_entries (user_id, session_id, qa_id, payload, created_at, "
                                "expires_at) VALUES (?, ?, ?, CAST(? AS TEXT), ?, ?)",
                                (user_id, session_id, qa_id, value, created, expires))
                else:
                    con.execute("INSERT INTO cache_qa_entries (user_id, session_id, qa_id, payload, created_at, "
                                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                                (user_id, session_id, qa_id, value, created, expires))
        con.close()


class PgRaw:
    def __init__(self, dsn):
        self.dsn = dsn

    async def _con(self):
        import asyncpg
        return await asyncpg.connect(self.dsn)

    async def session_rows(self):
        con = await self._con()
        try:
            rows = await con.fetch("SELECT seq, user_id, session_id, qa_id, expires_at FROM cache_qa_entries "
                                   "ORDER BY seq")
            return [tuple(r) for r in rows]
        finally:
            await con.close()

    async def expire_row(self, seq, when):
        con = await self._con()
        try:
            await con.execute("UPDATE cache_qa_entries SET expires_at = $1 WHERE seq = $2", when, seq)
        finally:
            await con.close()

    async def plant(self, user_id, session_id, rows, now):
        con = await self._con()
        created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
        try:
            for i, (kind, value) in enumerate(rows):
                qa_id = f"planted-{i}"
                expires = None
                if kind == "json_qa":
                    value, qa_id = value
                if kind == "json_expired":
                    expires = now - timedelta(hours=1)
                await con.execute("INSERT INTO cache_qa_entries (user_id, session_id, qa_id, payload, created_at, "
                                  "expires_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
                                  user_id, session_id, qa_id, value, created, expires)
        finally:
            await con.close()


def sqlite_ddl(path):
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    finally:
        con.close()


# --------------------------------------------------------------------------------------
async def main_async(args):
    work = tempfile.mkdtemp(prefix="cognee-sql-fixture-")
    cache_config = configure_env(args, work)
    g = Gen(args, work)
    g.import_cognee()
    g.make_users()
    g.plan()
    await g.run_ops()
    await g.usage_logs()

    adapter = g.get_cache_engine()
    if args.backend == "sqlite":
        db_file = os.path.join(os.environ["DB_PATH"], "cache.db")
        raw = SqliteRaw(db_file)
        rows = raw.session_rows()
    else:
        raw = PgRaw(args.raw_dsn)
        rows = await raw.session_rows()

    # planted expired row in a normal session
    now = datetime.now(timezone.utc)
    for s in g.sessions:
        if "_expire_index" in s:
            seqs = [r[0] for r in rows if r[1] == s["user_id"] and r[2] == s["session_id"]]
            seq = seqs[s["_expire_index"]]
            when = now - timedelta(minutes=5)
            if args.backend == "sqlite":
                raw.expire_row(seq, when)
            else:
                await raw.expire_row(seq, when)
            s["history"].append({"op": "raw_expire", "seq": seq, "expires_at": when.isoformat()})

    corrupt = []
    for session_id, desc, plant_rows in g.corrupt_plan():
        if args.backend == "sqlite":
            raw.plant(g.users["default"], session_id, plant_rows, now)
        else:
            await raw.plant(g.users["default"], session_id, plant_rows, now)
        corrupt.append({"user_alias": "default", "user_id": g.users["default"], "session_id": session_id,
                        "planted_value": desc, "session_ttl_seconds": None if session_id.startswith("corrupt__") else -1,
                        "row_kinds": [k for k, _ in plant_rows]})
    generated_at = datetime.now(timezone.utc).isoformat()

    # read back ---------------------------------------------------------------------------
    if args.backend == "sqlite":
        rows = raw.session_rows()
    else:
        rows = await raw.session_rows()

    def seqs_of(uid, sid):
        return [r[0] for r in rows if r[1] == uid and r[2] == sid]

    def expired_of(uid, sid):
        out = []
        for r in rows:
            if r[1] == uid and r[2] == sid and r[4] is not None:
                exp = r[4]
                if isinstance(exp, str):
                    exp = datetime.strptime(exp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
                if exp <= datetime.fromisoformat(generated_at):
                    out.append(r[0])
        return out

    sessions_out = []
    for s in g.sessions:
        rec = {k: v for k, v in s.items() if not k.startswith("_")}
        rec["table"] = "cache_qa_entries"
        rec["seqs"] = seqs_of(s["user_id"], s["session_id"])
        rec["expired_seqs"] = expired_of(s["user_id"], s["session_id"])
        rec.update(await g.read_session(s["user_alias"], s["user_id"], s["session_id"], adapter=s["_sm"]._cache))
        if any(h["op"] in ("trace", "delete_session") for h in s["history"]):
            try:
                tr = await s["_sm"].get_agent_trace_session(user_id=s["user_id"], session_id=s["session_id"])
                rec["agent_traces"] = [t.model_dump(mode="json") if hasattr(t, "model_dump") else t for t in tr]
            except Exception as e:
                rec["agent_traces_error"] = err(e)
        if any(h["op"].startswith("context") or h["op"] in ("watermark", "delete_session") for h in s["history"]):
            rec["session_context"] = await s["_sm"].get_session_context_entries(
                user_id=s["user_id"], session_id=s["session_id"], raise_on_error=False)
        sessions_out.append(rec)

    for c in corrupt:
        c["table"] = "cache_qa_entries"
        c["seqs"] = seqs_of(c["user_id"], c["session_id"])
        c["expired_seqs"] = expired_of(c["user_id"], c["session_id"])
        c.update(await g.read_session("default", c["user_id"], c["session_id"]))
        c.pop("get_session_formatted", None)
        c.pop("get_session_formatted_error", None)
        elements = []
        live = [q for q in c["seqs"] if q not in c["expired_seqs"]]
        for i, seq in enumerate(live):
            elements.append({"index": i, "seq": seq, "cognee": await g.row_verdict(seq)})
        c["elements"] = elements
        if c["expired_seqs"]:
            c["note"] = ("every row has expires_at in the past: cognee's reads filter them out "
                         "(expires_at IS NULL OR expires_at > now), so it reads nothing; a reader must compare "
                         "expires_at with generator.generated_at, not with today's clock")
        if c["session_ttl_seconds"] == -1:
            c["session_ttl_seconds"] = None

    usage = {}
    for alias, uid in g.users.items():
        logs = await adapter.get_usage_logs(uid)
        if logs:
            usage[uid] = logs

    cfg = g.get_cache_config()
    expected = {
        "generator": {
            "script": SCRIPT,
            "cognee_version": g.cognee_version,
            "backend": args.backend,
            "seed": SEED,
            "generated_at": generated_at,
            "cache_config": {
                "cache_backend": cfg.cache_backend,
                "caching": cfg.caching,
                "auto_feedback": cfg.auto_feedback,
                "session_ttl_seconds": cfg.session_ttl_seconds,
                "usage_logging": cfg.usage_logging,
                "usage_logging_ttl": cfg.usage_logging_ttl,
                "cache_purge_interval_seconds": cfg.cache_purge_interval_seconds,
                "cache_db_url": ("sqlite+aiosqlite:///{DB_PATH}/cache.db (DB_PATH a temp dir)"
                                 if args.backend == "sqlite" else "postgresql+asyncpg://… (throwaway loopback server)"),
            },
            "blocked_network_attempts": BLOCKED,
            "stubbed_calls": g.stub_calls,
            "notes": [
                "qa_id / trace ids / time fields are produced by cognee (uuid4, datetime.now) and differ per run; compare against this file, generated in the same run as the data.",
                "get_session = cognee.session.get_session(session_id, user=<object with .id>); get_session_last_n_1/3 = SessionManager.get_session(last_n=1/3); get_session_formatted = SessionManager.get_session(formatted=True) (include_context=True).",
                "Entries are SessionQAEntry.model_dump(mode='json'): all 10 fields in declaration order.",
                "seqs = every stored cache_qa_entries row of the session in seq order (including expired ones); expired_seqs = rows whose expires_at <= generated_at.",
                "generated_at is taken after the last write: evaluate expires_at against it, not against today's clock (TTL'd rows expire 7 days after their session's last write, minus up to 5% slack).",
                "corrupt_sessions[].elements: cognee's own SqlCacheAdapter.get_all_qa_entries (SQLAlchemy JSON decode with json.loads + SessionQAEntry.model_validate) run on that one row alone; index = position among the session's live rows in seq order.",
                "cognee's get_session fails as a whole on the first bad row (CacheConnectionError wrapping the decode/validation error); it does not skip rows.",
                "The vector side-index (index_session_qa, delete_session_qa_vector[s]) and the relational session_records heartbeat (record_session_activity) were stubbed: they are outside the cache and would need embeddings / a relational DB.",
                "usage_logs: cognee's get_usage_logs(user_id) per user, most recent first.",
            ],
        },
        "users": g.users,
        "dataset_id": str(g.dataset_id),
        "sessions": sessions_out,
        "usage_logs": usage,
        "corrupt_sessions": corrupt,
    }

    # close cognee's engines -------------------------------------------------------------
    seen = set()
    for s in g.sessions:
        a = s["_sm"]._cache
        if id(a) not in seen:
            seen.add(id(a))
            await a.close()
    await adapter.close()

    os.makedirs(args.out, exist_ok=True)
    if args.backend == "sqlite":
        expected["generator"]["ddl"] = sqlite_ddl(db_file)
        src = sqlite3.connect(db_file)
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out_db = os.path.join(args.out, "cache.db")
        if os.path.exists(out_db):
            os.remove(out_db)
        dst = sqlite3.connect(out_db)
        src.backup(dst)
        src.close()
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.execute("VACUUM")
        dst.close()
        for ext in ("-wal", "-shm", "-journal"):
            if os.path.exists(out_db + ext):
                os.remove(out_db + ext)
    else:
        pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
        if os.path.exists("/usr/lib/postgresql/15/bin/pg_dump"):
            pg_dump = "/usr/lib/postgresql/15/bin/pg_dump"
        dump = subprocess.run([pg_dump, "--no-owner", "--no-privileges", "-t", "cache_*", args.raw_dsn],
                              check=True, capture_output=True)
        # pg_dump >= 15.14 brackets the script with "\\restrict <random key>" / "\\unrestrict"
        # psql meta-commands with a random key; drop them so the file is deterministic.
        lines = [ln for ln in dump.stdout.split(b"\n")
                 if not (ln.startswith(b"\\restrict ") or ln.startswith(b"\\unrestrict "))]
        header = (b"-- cognee 1.6.5 SQL session cache (CACHE_BACKEND=postgres), every cache_* table as cognee\n"
                  b"-- created it, with all rows. Written by " + SCRIPT.encode() + b" (pg_dump --no-owner\n"
                  b"-- --no-privileges -t 'cache_*'). Load into an empty database with:\n"
                  b"--   psql -v ON_ERROR_STOP=1 -q -f cache_qa_entries.sql postgresql://USER@HOST:PORT/EMPTY_DB\n"
                  b"-- (COPY ... FROM stdin needs psql or a client that speaks COPY; the script sets\n"
                  b"-- search_path to '' for its own session, tables are created in schema public.)\n")
        with open(os.path.join(args.out, "cache_qa_entries.sql"), "wb") as f:
            f.write(header + b"\n".join(lines))
        expected["generator"]["ddl"] = await pg_ddl(args.raw_dsn)

    with open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, ensure_ascii=True)
        f.write("\n")
    shutil.rmtree(work, ignore_errors=True)
    n_rows = len(rows)
    print(json.dumps({"out": args.out, "rows": n_rows, "sessions": len(sessions_out),
                      "corrupt_sessions": len(corrupt), "blocked_network_attempts": len(BLOCKED)}))


async def pg_ddl(dsn):
    """Columns/defaults/indexes of the cache tables as the server reports them."""
    import asyncpg
    con = await asyncpg.connect(dsn)
    try:
        out = []
        tables = [r[0] for r in await con.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename LIKE 'cache\\_%' ORDER BY 1")]
        for t in tables:
            cols = await con.fetch(
                "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema='public' AND table_name=$1 ORDER BY ordinal_position", t)
            out.append({"table": t, "columns": [dict(c) for c in cols],
                        "constraints": [r[0] for r in await con.fetch(
                            "SELECT pg_get_constraintdef(c.oid) || ' /* ' || conname || ' */' FROM pg_constraint c "
                            "JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname = $1 ORDER BY conname", t)],
                        "indexes": [r[0] for r in await con.fetch(
                            "SELECT indexdef FROM pg_indexes WHERE schemaname='public' AND tablename=$1 "
                            "ORDER BY indexname", t)]})
        return out
    finally:
        await con.close()


def prepare_pg(args):
    """Creates a fresh database next to the one in --pg-url and points cognee at it."""
    u = urlparse(args.pg_url)
    dbname = args.pg_database
    admin = args.pg_url

    async def create():
        import asyncpg
        con = await asyncpg.connect(admin)
        try:
            await con.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            await con.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0 ENCODING \'UTF8\'')
        finally:
            await con.close()
    asyncio.run(create())
    args.raw_dsn = urlunparse(u._replace(path="/" + dbname))
    args.cognee_url = urlunparse(u._replace(scheme="postgresql+asyncpg", path="/" + dbname))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pg-url", help="postgresql://user@host:port/db of a throwaway loopback server")
    p.add_argument("--pg-database", default="cognee_sql_fixture",
                   help="database created (dropped first) on that server for the fixture")
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    if args.backend == "postgres":
        if not args.pg_url:
            p.error("--pg-url is required for --backend postgres")
        prepare_pg(args)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
