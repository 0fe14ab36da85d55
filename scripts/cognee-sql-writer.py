#!/usr/bin/env python3
"""Keeps writing QA turns into a cognee 1.6.5 SQL session cache with cognee's own code,
for tests that read the same cache while cognee writes to it.

    .cognee-venv/bin/python scripts/cognee-sql-writer.py --backend sqlite --db-path DIR \
        --seconds 10 --sessions 3 --user cli-user-42 --seed 7
    .cognee-venv/bin/python scripts/cognee-sql-writer.py --backend postgres \
        --cache-db-url postgresql://postgres@127.0.0.1:PORT/db --turns 500 --sessions 4

sqlite:   DB_PATH=DIR, so the cache is DIR/cache.db (cognee's default layout; WAL mode).
postgres: CACHE_DB_URL=postgresql+asyncpg://… (a plain postgresql:// URL is rewritten).

Every turn is SessionManager.add_qa on one of --sessions sessions (round robin), with
CACHING=true and AUTO_FEEDBACK=false. About every 10th turn is instead an edit of an
earlier turn of the same session: update_qa (new answer) or add_feedback, alternating.
Sessions are named `{--session-prefix}{i}` (default `writer-{seed}-{i}`).

Stops after --seconds or --turns (whichever comes first), or on SIGTERM/SIGINT, then
prints one JSON line to stdout:
    {"written": n, "edited": m, "errors": e, "qa_ids": [...], "session_ids": [...], "user_id": "..."}
median_write_ms / p99_write_ms / max_write_ms: how long cognee's calls took (a reader
that blocked cognee's writers would show here). errors counts exceptions cognee raised (e.g. "database is locked"); the first few are
printed to stderr. Everything else (cognee's logging) goes to stderr. --seconds counts from
the moment cognee is imported and configured (importing takes a few seconds); the line
`cognee-sql-writer: ready …` on stderr marks that moment.

No network: only loopback connections are allowed. The vector side-index and the
relational session_records heartbeat that add_qa also calls are stubbed out (they are not
part of the cache and would need embeddings / a relational database).
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import uuid
from urllib.parse import urlparse, urlunparse

# -- loopback only ------------------------------------------------------------------------
_LOOP = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex
_orig_gai = socket.getaddrinfo


def _ok(addr):
    if isinstance(addr, (str, bytes)):
        return True
    h = addr[0] if isinstance(addr, tuple) and addr else ""
    return h in _LOOP or str(h).startswith("127.")


def _connect(self, addr):
    if not _ok(addr):
        raise OSError(f"network blocked: {addr!r}")
    return _orig_connect(self, addr)


def _connect_ex(self, addr):
    if not _ok(addr):
        return 111
    return _orig_connect_ex(self, addr)


def _gai(host, *a, **k):
    h = host.decode() if isinstance(host, bytes) else host
    if h is not None and h not in _LOOP and not str(h).startswith("127."):
        raise socket.gaierror(f"name resolution blocked: {h!r}")
    return _orig_gai(host, *a, **k)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.getaddrinfo = _gai

WORDS = ("graph node edge vector cache session memory triplet chunk dataset ontology pipeline "
         "retrieval summary entity relation schema index embedding partition agent trace feedback "
         "weight score rule lesson goal preference context answer query storage").split()
SPICE = ["Grüße aus München", "日本語のテキスト", "emoji 😀🧠", "astral 𝔘𝔫𝔦", "quotes \"q\" \\ back",
         "line\u2028sep", "tab\there", "NBSP\u00a0here", "مرحبا", "👨\u200d👩\u200d👧"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "turso", "postgres"], required=True)
    p.add_argument("--db-path", help="sqlite: cognee's DB_PATH (the cache is DB_PATH/cache.db)")
    p.add_argument("--cache-db-url", help="postgres: postgresql://user@host:port/db")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--turns", type=int, help="stop after this many turns (adds + edits)")
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--session-prefix", help="session ids are PREFIX0, PREFIX1, … (default writer-SEED-)")
    p.add_argument("--user", default="5f1c3a9e-2b7d-4c1e-9a0f-3d2e1b4c5a6f", help="user id (any non-blank string)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--interval-ms", type=float, default=0.0, help="pause between turns")
    p.add_argument("--session-ttl-seconds", type=int, default=604800, help="SESSION_TTL_SECONDS (0 = no expiry)")
    p.add_argument("--answer-bytes", type=int, default=0, help="pad answers to about this many characters")
    args = p.parse_args()
    if args.seconds is None and args.turns is None:
        p.error("give --seconds or --turns")
    if args.backend in ("sqlite", "turso") and not args.db_path:
        p.error("--db-path is required for sqlite and turso")
    if args.backend == "postgres" and not args.cache_db_url:
        p.error("--cache-db-url is required for postgres")
    if args.sessions < 1:
        p.error("--sessions must be >= 1")

    # stdout is reserved for the final JSON line; everything else goes to stderr
    real_stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    work = tempfile.mkdtemp(prefix="cognee-sql-writer-")
    empty_env = os.path.join(work, "empty.env")
    open(empty_env, "w").close()
    env = {
        "COGNEE_ENV_FILE": empty_env,
        "CACHING": "true",
        "AUTO_FEEDBACK": "false",
        "USAGE_LOGGING": "false",
        "SESSION_TTL_SECONDS": str(args.session_ttl_seconds),
        "SYSTEM_ROOT_DIRECTORY": os.path.join(work, "system"),
        "DATA_ROOT_DIRECTORY": os.path.join(work, "data"),
        "TELEMETRY_DISABLED": "1",
        "LLM_API_KEY": "not-used",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "ERROR"),
    }
    if args.backend in ("sqlite", "turso"):
        env["CACHE_BACKEND"] = args.backend  # turso: the same cache.db, written by the turso engine (pyturso)
        env["DB_PATH"] = os.path.abspath(args.db_path)
        os.environ.pop("CACHE_DB_URL", None)
    else:
        u = urlparse(args.cache_db_url)
        env["CACHE_BACKEND"] = "postgres"
        env["CACHE_DB_URL"] = urlunparse(u._replace(scheme="postgresql+asyncpg"))
        env["DB_PATH"] = os.path.join(work, "databases")
    os.environ.update(env)

    try:
        result = asyncio.run(run(args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()


async def run(args):
    import cognee  # noqa: F401
    import cognee.infrastructure.session.session_manager as smmod
    from cognee.infrastructure.session.get_session_manager import get_session_manager

    async def _noop(*a, **k):
        return None

    smmod.index_session_qa = _noop
    smmod.delete_session_qa_vector = _noop
    smmod.delete_session_qa_vectors = _noop
    smmod.record_session_activity = _noop

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass

    rng = random.Random(args.seed)
    prefix = args.session_prefix if args.session_prefix is not None else f"writer-{args.seed}-"
    session_ids = [f"{prefix}{i}" for i in range(args.sessions)]
    per_session = {s: [] for s in session_ids}
    sm = get_session_manager()
    written = edited = errors = 0
    qa_ids = []
    latencies = []  # ms per cognee call: how long a write waited (e.g. on a reader)
    shown = 0
    deadline = time.monotonic() + args.seconds if args.seconds is not None else None
    turn = 0
    edit_kind = 0

    def text(n):
        w = " ".join(rng.choice(WORDS) for _ in range(n))
        if rng.random() < 0.3:
            w += " " + rng.choice(SPICE)
        return w

    def report(e):
        nonlocal shown
        if shown < 5:
            shown += 1
            print(f"cognee-sql-writer: turn {turn}: {type(e).__name__}: {e}", file=sys.stderr)
            if shown == 1:
                traceback.print_exception(e, file=sys.stderr)

    print(f"cognee-sql-writer: ready ({args.backend}, sessions {session_ids})", file=sys.stderr, flush=True)
    while not stop.is_set():
        if args.turns is not None and turn >= args.turns:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        sid = session_ids[turn % len(session_ids)]
        turn += 1
        started = time.monotonic()
        try:
            if turn % 10 == 0 and per_session[sid]:
                target = rng.choice(per_session[sid])
                if edit_kind % 2 == 0:
                    ok = await sm.update_qa(user_id=args.user, qa_id=target, session_id=sid,
                                            answer=f"edited at turn {turn}: {text(8)}")
                else:
                    ok = await sm.add_feedback(user_id=args.user, qa_id=target, session_id=sid,
                                               feedback_text=f"feedback {turn} {text(3)}",
                                               feedback_score=rng.randint(1, 5))
                edit_kind += 1
                if ok:
                    edited += 1
                else:
                    errors += 1
                    report(RuntimeError(f"edit of {target} returned False"))
            else:
                answer = f"turn {turn}: {text(rng.randint(5, 40))}"
                if args.answer_bytes and len(answer) < args.answer_bytes:
                    answer += " " + "x" * (args.answer_bytes - len(answer) - 1)
                qa_id = await sm.add_qa(user_id=args.user, session_id=sid,
                                        question=f"Q{turn} {text(rng.randint(3, 12))}?",
                                        context="" if rng.random() < 0.5 else text(20),
                                        answer=answer)
                written += 1
                qa_ids.append(qa_id)
                per_session[sid].append(qa_id)
        except Exception as e:  # cognee raised (e.g. database is locked): count and go on
            errors += 1
            report(e)
        latencies.append((time.monotonic() - started) * 1000.0)
        if args.interval_ms > 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=args.interval_ms / 1000.0)
            except asyncio.TimeoutError:
                pass
        else:
            await asyncio.sleep(0)

    try:
        await sm._cache.close()
    except Exception:
        pass
    ordered = sorted(latencies) or [0.0]
    return {"written": written, "edited": edited, "errors": errors, "qa_ids": qa_ids,
            "session_ids": session_ids, "user_id": args.user,
            "median_write_ms": round(ordered[len(ordered) // 2], 3),
            "p99_write_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
            "max_write_ms": round(ordered[-1], 3)}


if __name__ == "__main__":
    main()
