#!/usr/bin/env python3
"""Generates Tests/PipelineTests/Fixtures/entry-cases.json: stored cache elements and cognee
1.6.5's verdict on each, for the differential test of our entry decoder.

The verdict comes from cognee's own code: `SessionQAEntry(**json.loads(raw))` with the
`SessionQAEntry` class of the real cognee 1.6.5 wheel (downloaded from PyPI; its module is
loaded alone, with cognee's sanitization helpers stubbed because the QA model does not use
them) and the pydantic installed here. Run it again after changing the cases:

    python3 scripts/gen-entry-cases.py
"""
import base64, glob, importlib.util, json, os, random, subprocess, sys, tempfile, types, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "PipelineTests", "Fixtures", "entry-cases.json")


def load_model():
    work = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "cognee==1.6.5", "-d", work], check=True)
    wheel = glob.glob(os.path.join(work, "cognee-1.6.5-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        source = z.read("cognee/infrastructure/databases/cache/models.py")
    stub = types.ModuleType("cognee.modules.agent_memory.sanitization")
    stub.MAX_SERIALIZED_VALUE_LENGTH = 1000
    stub.sanitize_value = lambda v: v
    stub.truncate_text = lambda t, n: t
    sys.modules["cognee.modules.agent_memory.sanitization"] = stub
    module = types.ModuleType("cognee_models")
    exec(compile(source, "models.py", "exec"), module.__dict__)
    import pydantic
    return module.SessionQAEntry, pydantic.VERSION


BASE = {"time": "2026-11-24T18:39:19.769687+00:00", "question": "What is Cognee?", "context": "",
        "answer": "A memory layer.", "qa_id": "11111111-1111-4111-8111-111111111111", "feedback_text": None,
        "feedback_score": None, "used_graph_element_ids": None, "memify_metadata": None,
        "used_session_context_ids": None}

VALUES = [None, True, False, 0, 1, 3, 5, 6, -1, 3.0, 3.5, 1e300, 10**30, "", "x", "3", " 4 ", "+2", "5.0", "5.5",
          "1_0", "٣", [], ["a"], ["a", "b"], [1], ["a", None], {}, {"a": 1}, {"node_ids": []},
          {"node_ids": ["n1"], "edge_ids": ["e1"]}, {"edge_ids": ["e"], "node_ids": ["n"]}, {"node_ids": "n"},
          {"node_ids": ["a"], "foo": ["b"]}, {"k": True, "n": 2, "s": "explicit", "l": ["x"]}, {"k": 1.5},
          {"k": None}, {"k": {"nested": 1}}, {"k": [1]}]

RAW = [
    # cognee shapes
    json.dumps(BASE),
    json.dumps({k: BASE[k] for k in ("time", "question", "context", "answer")}),  # pre-CRUD entry
    json.dumps(dict(BASE, time="2026-07-01T12:00:00.123456")),  # 1.5.x naive time
    json.dumps(dict(BASE, time="2026-09-01T10:01:00+00:00")),  # no microseconds
    json.dumps(dict(BASE, question="\u00dcn\u00efcode \u2713? \U0001F914 \u0000 \u2028 \u05e9\u05dc\u05d5\u05dd")),
    json.dumps(dict(BASE, answer="line\nbreak\ttab \"quoted\" back\\slash /slash \b\f\r")),
    json.dumps(dict(BASE, answer="x" * 70000)),
    json.dumps(dict(BASE, future_field=1)),
    json.dumps(BASE, ensure_ascii=False),  # raw UTF-8 (not what cognee writes, but valid)
    json.dumps(BASE, separators=(",", ":")),
    json.dumps(BASE, indent=2),
    "  " + json.dumps(BASE) + "\n",
    # duplicate keys: the last wins
    '{"time": "t", "question": "first", "context": "", "answer": "a", "question": "second"}',
    # escapes and surrogates
    '{"time": "t", "question": "\\ud83e\\udd14 \\u00e9 \\u0000 \\/", "context": "", "answer": "a"}',
    '{"time": "t", "question": "\\uD83E\\uDD14", "context": "", "answer": "a"}',
    # unpaired surrogates: Python keeps them; we refuse them (no UTF-8 form)
    '{"time": "t", "question": "\\ud800", "context": "", "answer": "a"}',
    '{"time": "t", "question": "x\\udc00y", "context": "", "answer": "a"}',
    # Python accepts these numbers
    '{"time": "t", "question": "q", "context": "", "answer": "a", "feedback_score": 4.0}',
    '{"time": "t", "question": "q", "context": "", "answer": "a", "feedback_score": 4e0}',
    '{"time": "t", "question": "q", "context": "", "answer": "a", "feedback_score": NaN}',
    '{"time": "t", "question": "q", "context": "", "answer": "a", "feedback_score": -Infinity}',
    '{"time": "t", "question": "q", "context": "", "answer": "a", "feedback_score": -0}',
    '{"time": "t", "question": "q", "context": "", "answer": "a", "memify_metadata": {"n": -0, "big": 123456789012345678901234567890}}',
    # not an object
    "[1, 2, 3]", "null", "\"a string\"", "42", "true", "[]",
    # invalid JSON (Python rejects each)
    "", " ", "{", "{\"time\": \"t\"", "{'time': 't'}", "{\"time\": \"t\",}", "[1,]", "{\"a\" 1}",
    "{\"time\": \"tab\there\"}", "{\"time\": \"bad \\x escape\"}", "{\"time\": \"\\u12\"}", "nul", "01",
    "{} {}", "{\"a\": tru}", "{\"a\": .5}", "{\"a\": 1.}", "{\"a\": -}", "\ufeff{}", "[" * 400 + "]" * 400,
]


def cases():
    rng = random.Random(20261124)
    out = list(RAW)
    fields = list(BASE)
    for field in fields:
        for value in VALUES:
            entry = dict(BASE)
            entry[field] = value
            out.append(json.dumps(entry))
        entry = dict(BASE)
        del entry[field]
        out.append(json.dumps(entry))
    for _ in range(400):
        entry = dict(BASE)
        for field in rng.sample(fields, rng.randint(1, 3)):
            if rng.random() < 0.15:
                entry.pop(field, None)
            else:
                entry[field] = rng.choice(VALUES)
        out.append(json.dumps(entry))
    return out


def main():
    model, pydantic_version = load_model()
    results = []
    for raw in cases():
        data = raw.encode("utf-8", "surrogatepass")
        case = {"raw_b64": base64.b64encode(data).decode()}
        try:
            entry = model(**json.loads(data.decode("utf-8")))
            dump = entry.model_dump()
            try:
                case["entry"] = json.dumps(dump, ensure_ascii=False).encode("utf-8").decode()
                case["ok"] = True
            except UnicodeEncodeError:
                case["ok"] = True
                case["lone_surrogate"] = True
        except Exception as error:  # noqa: BLE001 - cognee's verdict, whatever it raised
            case["ok"] = False
            case["error_type"] = type(error).__name__
        results.append(case)
    # Bytes that are not UTF-8 (cognee's decode_responses raises UnicodeDecodeError).
    for bad in [b'{"time": "\xff\xfe", "question": "", "context": "", "answer": ""}',
                b'{"time": "t", "question": "\xc3\x28", "context": "", "answer": ""}',
                b'{"time": "t", "question": "\xed\xa0\x80", "context": "", "answer": ""}',
                b'{"time": "t", "question": "\xf4\x90\x80\x80", "context": "", "answer": ""}',
                b'{"time": "t", "question": "\xc0\xaf", "context": "", "answer": ""}']:
        results.append({"raw_b64": base64.b64encode(bad).decode(), "ok": False, "error_type": "UnicodeDecodeError"})
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/gen-entry-cases.py", "cognee": "1.6.5", "pydantic": pydantic_version,
                   "cases": results}, f, indent=0)
    print(f"{len(results)} cases, {sum(c['ok'] for c in results)} accepted by cognee -> {OUT}")


if __name__ == "__main__":
    main()
