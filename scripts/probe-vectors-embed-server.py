#!/usr/bin/env python3
"""Loopback stand-in for an OpenAI-compatible /v1/embeddings server (probe-vectors helper).

    probe-vectors-embed-server.py PORT LOGFILE [DIM]

Answers POST /v1/embeddings with deterministic vectors: each lowercase word of an input
is hashed (sha256) into one of DIM buckets; the vector is the bucket counts (not
normalised; an input with no word gets [1, 0, ...]). Every request is appended to LOGFILE
as one JSON line {"path", "headers", "body"} (LOGFILE "-": no log). PORT 0 picks a free port.
Prints its base URL (http://127.0.0.1:PORT/v1) as the first line on stdout once it listens.
Serves until killed. Loopback only.
"""
import base64, hashlib, json, re, signal, struct, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
DIM = int(sys.argv[3]) if len(sys.argv) > 3 else 8


def embed(text, dim):
    vector = [0.0] * dim
    words = re.findall(r"[a-z0-9]+", text.lower())
    for word in words:
        vector[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dim] += 1.0
    if not words:
        vector[0] = 1.0
    return vector


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw or b"{}")
        if LOG != "-":
            with open(LOG, "a") as log:
                log.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()), "body": body}) + "\n")
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        dim = int(body.get("dimensions") or DIM)
        data = []
        for index, text in enumerate(inputs):
            vector = embed(text, dim)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        reply = json.dumps({"object": "list", "data": data, "model": body.get("model"),
                            "usage": {"prompt_tokens": sum(len(t.split()) for t in inputs),
                                      "total_tokens": sum(len(t.split()) for t in inputs)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


# A parent that spawned us from a thread with SIGTERM blocked (Foundation's Process can) must still stop us.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
server.serve_forever()
