#!/usr/bin/env python3
"""Fuzzes `latentflow serve`'s routes for a bounded time (issue 19, item 6): random methods, paths
(ComfyUI's routes, under / and /api/, with mutated segments: `..`, `%00`, `%2e%2e`, very long, unicode),
query strings, headers (Content-Length lies, odd Content-Types, huge values), bodies (malformed and
mutated JSON prompts, truncated and hostile multipart), raw bytes that are not HTTP, and WebSocket
frames (text, binary, pings, oversized, invalid JSON). A fixed seed makes a run repeatable.

Checks, after every request: the server answered (or closed the connection) without a 5xx, except
503 from a full queue; bytes that are not HTTP got a 400; it is still alive; nothing appeared outside
its folders. The summary counts answers by status ("no answer": closed without one, e.g. a body
cut short by a lying Content-Length), the non-HTTP requests apart. Exits non-zero with
the request that broke it.

Usage: route_fuzz.py HOST:PORT SCRATCH_DIR [--seconds 60] [--seed 1]
"""
import argparse
import json
import os
import random
import socket
import sys
import time

import websocket  # websocket-client

ROUTES = ["/prompt", "/queue", "/interrupt", "/free", "/history", "/history/x", "/view", "/upload/image",
          "/upload/mask", "/object_info", "/object_info/KSampler", "/system_stats", "/embeddings", "/extensions",
          "/models", "/models/checkpoints", "/features", "/settings", "/settings/Comfy.Locale", "/userdata",
          "/userdata/workflows%2Fa.json", "/userdata/a.json/move/b.json", "/v2/userdata", "/users", "/i18n",
          "/experiment/models", "/experiment/models/loras", "/workflow_templates", "/ws", "/", "/index.html",
          "/templates/index.json", "/internal/logs", "/internal/folder_paths"]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW", "G\x00T", ""]
SEGMENTS = ["..", "%2e%2e", "%00", "a" * 5000, "é", "%ff%fe", "//", "\\..\\", ":", "?", "#", "~", "%"]
CONTENT_TYPES = ["application/json", "multipart/form-data; boundary=XyZ", "multipart/form-data", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=" + "b" * 300, ""]


def mutate(text, rng):
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        choice = rng.random()
        i = rng.randrange(len(data))
        if choice < 0.3:
            data[i] = rng.randrange(256)
        elif choice < 0.6:
            del data[i:i + rng.randint(1, 20)]
        else:
            data[i:i] = rng.choice([b"{", b"}", b"[", b"]", b'"', b",", b"\x00", b"1e999", b"-", b"\\u", b"null"])
    return bytes(data)


def prompt_body(rng, workflow):
    body = {"prompt": json.loads(json.dumps(workflow)), "client_id": "fuzz"}
    choice = rng.random()
    if choice < 0.2:
        node = rng.choice(list(body["prompt"].values()))
        key = rng.choice(list(node["inputs"]))
        node["inputs"][key] = rng.choice([None, -1, 2**70, 1e308, float("nan"), "x" * 10000, [], {}, ["99", 0],
                                          ["1", 99], [["1", 0]], True, "../../etc/passwd"])
    elif choice < 0.3:
        body["prompt"] = rng.choice([[], "x", 5, None, {"1": {"class_type": "Nope", "inputs": {}}}])
    elif choice < 0.4:
        body["prompt"]["1"]["class_type"] = rng.choice(["", "SaveImage", "../x", "\u0000"])
    elif choice < 0.5:
        body = {"number": rng.choice([1e308, -5, "a"]), "front": rng.choice([True, "x"]), "prompt": body["prompt"],
                "partial_execution_targets": rng.choice([["8"], ["nope"], "8", [1]])}
    text = json.dumps(body, allow_nan=True)
    return mutate(text, rng) if rng.random() < 0.5 else text.encode()


def multipart(rng):
    boundary = "XyZ"
    name = rng.choice(["a.png", "../../evil.png", "/abs.png", "a\x00b.png", "x" * 300 + ".png", ".png", "é.png"])
    field = rng.choice(["image", "mask", "original_ref", "overwrite", "subfolder", "type"])
    value = rng.choice([b"\x89PNG\r\n\x1a\n" + os.urandom(rng.randint(0, 200)), b"", b"output", b"../..", b"true",
                        os.urandom(64)])
    parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
             f"Content-Type: image/png\r\n\r\n").encode("utf-8", "surrogatepass") + value + f"\r\n--{boundary}--\r\n".encode()
    return mutate(parts.decode("latin-1"), rng) if rng.random() < 0.4 else parts


def request_bytes(rng, workflow):
    method = rng.choice(METHODS)
    path = rng.choice(["", "/api"]) + rng.choice(ROUTES)
    if rng.random() < 0.4:
        path = path.rstrip("/") + "/" + "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.5:
        pairs = [f"{rng.choice(['filename', 'subfolder', 'type', 'preview', 'channel', 'max_items', 'offset', 'clientId'])}="
                 f"{rng.choice(['../../etc/passwd', 'output', 'temp', 'input', 'webp;90', 'a', '-1', '99999999999999999999', '%00', 'rgba'])}"
                 for _ in range(rng.randint(1, 4))]
        path += "?" + "&".join(pairs)
    kind = rng.random()
    if kind < 0.5:
        body = prompt_body(rng, workflow)
    elif kind < 0.7:
        body = multipart(rng)
    elif kind < 0.85:
        body = os.urandom(rng.randint(0, 300))
    else:
        body = b""
    headers = [f"Host: 127.0.0.1", f"Content-Type: {rng.choice(CONTENT_TYPES)}"]
    length = len(body)
    if rng.random() < 0.15:
        length = rng.choice([0, length + 100, 2**40, -1, "abc"])
    headers.append(f"Content-Length: {length}")
    if rng.random() < 0.2:
        headers.append(rng.choice(["Origin: http://evil.example", "Transfer-Encoding: chunked", "Expect: 100-continue",
                                   "X-Big: " + "z" * 20000, "Authorization: Bearer x", "Connection: upgrade",
                                   "Upgrade: websocket"]))
    head = f"{method} {path} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\nConnection: close\r\n\r\n"
    raw = head.encode("utf-8", "surrogatepass") + body
    if rng.random() < 0.05:
        return os.urandom(rng.randint(1, 200)), True  # not HTTP at all
    return raw, False


def send(server, raw):
    host, port = server.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as s:
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while len(reply) < 1 << 16:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    if not reply.startswith(b"HTTP/1."):
        return None
    return int(reply.split(b" ", 2)[1])


def alive(server):
    return send(server, b"GET /system_stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 200


def fuzz_websocket(server, rng):
    ws = websocket.WebSocket()
    ws.connect(f"ws://{server}/ws?clientId={rng.choice(['fuzz', '', '%00', 'x' * 500])}", timeout=10)
    for _ in range(rng.randint(1, 5)):
        choice = rng.random()
        try:
            if choice < 0.3:
                ws.send(mutate('{"type": "feature_flags", "data": {"supports_preview_metadata": true}}', rng).decode("latin-1"))
            elif choice < 0.5:
                ws.send_binary(os.urandom(rng.randint(0, 4096)))
            elif choice < 0.6:
                ws.ping(os.urandom(rng.randint(0, 100)))
            elif choice < 0.7:
                ws.send("x" * rng.randint(1 << 16, 1 << 21))  # past the frame limit: the server may close
            else:
                ws.send(json.dumps({"type": rng.choice(["status", "executing", None, 5]), "data": rng.choice([None, [], {}])}))
        except (websocket.WebSocketException, BrokenPipeError, ConnectionResetError):
            break
    ws.close()


def listing(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("scratch")
    parser.add_argument("workflow")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.workflow) as f:
        workflow = json.load(f)
    for node in workflow.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"].update(width=64, height=64)
    outside = os.path.dirname(os.path.abspath(args.scratch))
    before = listing(outside)
    counts, start, n = {}, time.time(), 0
    while time.time() - start < args.seconds:
        n += 1
        if rng.random() < 0.1:
            try:
                fuzz_websocket(args.server, rng)
                counts["ws"] = counts.get("ws", 0) + 1
            except (websocket.WebSocketException, OSError) as error:
                counts["ws refused"] = counts.get("ws refused", 0) + 1
            continue
        raw, garbage = request_bytes(rng, workflow)
        status = send(args.server, raw)
        key = ("not HTTP " if garbage else "") + ("no answer" if status is None else str(status))
        counts[key] = counts.get(key, 0) + 1
        if status is not None and status >= 500 and status != 503:
            sys.exit(f"FAIL: {status} for request {n}: {raw[:600]!r}")
        # Bytes that do not parse as HTTP are answered 400 before the connection closes.
        if garbage and status != 400:
            sys.exit(f"FAIL: {status or 'no answer'} for non-HTTP request {n}: {raw[:600]!r}")
        if n % 50 == 0 and not alive(args.server):
            sys.exit(f"FAIL: server stopped answering after request {n}: {raw[:600]!r}")
    if not alive(args.server):
        sys.exit("FAIL: server is not answering at the end")
    if listing(outside) != before:
        sys.exit(f"FAIL: files appeared beside the scratch folder: {set(listing(outside)) ^ set(before)}")
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"route fuzz: {n} requests in {time.time() - start:.0f} s (seed {args.seed}); {summary}")


if __name__ == "__main__":
    main()
