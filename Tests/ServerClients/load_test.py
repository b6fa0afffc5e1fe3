#!/usr/bin/env python3
"""Load on `latentflow serve` (issue 19, item 7), bounded in count and time:

- CLIENTS WebSocket clients (websocket-client) connect; PROMPTS prompts (distinct seeds and texts) are
  queued at once, spread over them, plus a few for a client that never reads its socket and one that
  disconnects at once;
- every prompt must complete, in queue order (the history's order), each reader must get
  `execution_success` for each of its own prompts and no message about anyone else's;
- the server's resident memory (VmRSS of PID) is sampled every 0.5 s into a CSV (seconds, completed,
  rss_mb), and its growth over the second half of the run must stay under --max-growth-mb.

Usage: load_test.py HOST:PORT WORKFLOW.json PID [--prompts 1000] [--clients 50] [--size 64]
       [--steps 1] [--rss-csv FILE] [--timeout 1800] [--max-growth-mb 20]
"""
import argparse
import copy
import json
import sys
import threading
import time
import urllib.request
import uuid

import websocket  # websocket-client


def post_json(server, path, payload):
    request = urllib.request.Request(f"http://{server}{path}", data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def get_json(server, path):
    with urllib.request.urlopen(f"http://{server}{path}", timeout=60) as response:
        return json.loads(response.read())


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Reader(threading.Thread):
    """One WebSocket client: records the prompt ids of every message it gets."""

    def __init__(self, server, deadline):
        super().__init__(daemon=True)
        self.client_id = str(uuid.uuid4())
        self.mine = set()
        self.succeeded = set()
        self.foreign = []
        self.errors = []
        self.deadline = deadline
        self.expected = threading.Event()
        self.ws = websocket.WebSocket()
        self.ws.connect(f"ws://{server}/ws?clientId={self.client_id}", timeout=30)
        first = json.loads(self.ws.recv())
        assert first["type"] == "status" and first["data"]["sid"] == self.client_id, first

    def run(self):
        self.expected.wait()
        self.ws.settimeout(5)
        while self.succeeded != self.mine and time.time() < self.deadline:
            try:
                message = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            if not isinstance(message, str):
                continue
            event = json.loads(message)
            prompt_id = (event.get("data") or {}).get("prompt_id")
            if prompt_id is None:
                continue
            if prompt_id not in self.mine:
                self.foreign.append((event["type"], prompt_id))
            elif event["type"] == "execution_success":
                self.succeeded.add(prompt_id)
            elif event["type"] == "execution_error":
                self.errors.append(event["data"].get("exception_message"))
        self.ws.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("workflow")
    parser.add_argument("pid", type=int)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--rss-csv", default="server-rss.csv")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--max-growth-mb", type=float, default=20)
    args = parser.parse_args()
    start = time.time()
    deadline = start + args.timeout

    with open(args.workflow) as f:
        template = json.load(f)

    def prompt_for(index):
        prompt = copy.deepcopy(template)
        for node in prompt.values():
            inputs = node["inputs"]
            if node["class_type"] == "EmptyLatentImage":
                inputs.update(width=args.size, height=args.size, batch_size=1)
            if node["class_type"] == "KSampler":
                inputs.update(seed=1000 + index, steps=args.steps)
            if node["class_type"] == "CLIPTextEncode" and (node.get("_meta") or {}).get("title") == "Positive":
                inputs["text"] = f"a photo of a red fox, number {index}"
        return prompt

    readers = [Reader(args.server, deadline) for _ in range(args.clients)]
    # A client that never reads (the server must drop its oldest messages, not wait for it) and one
    # that goes away before its prompts run.
    silent = websocket.WebSocket()
    silent_id = str(uuid.uuid4())
    silent.connect(f"ws://{args.server}/ws?clientId={silent_id}", timeout=30)
    vanished = websocket.WebSocket()
    vanished_id = str(uuid.uuid4())
    vanished.connect(f"ws://{args.server}/ws?clientId={vanished_id}", timeout=30)
    vanished.close()
    for reader in readers:
        reader.start()

    samples = []
    completed = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append((time.time() - start, completed[0], rss_mb(args.pid)))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    order = []
    extra = 10
    for index in range(args.prompts + 2 * extra):
        if index < args.prompts:
            reader = readers[index % len(readers)]
            client_id = reader.client_id
        else:
            reader, client_id = None, (silent_id if index < args.prompts + extra else vanished_id)
        reply = post_json(args.server, "/prompt", {"prompt": prompt_for(index), "client_id": client_id})
        if reply.get("node_errors"):
            sys.exit(f"FAIL: prompt {index} refused: {reply}")
        order.append(reply["prompt_id"])
        if reader is not None:
            reader.mine.add(reply["prompt_id"])
    queued_in = time.time() - start
    for reader in readers:
        reader.expected.set()

    total = len(order)
    while time.time() < deadline:
        remaining = get_json(args.server, "/prompt")["exec_info"]["queue_remaining"]
        completed[0] = total - remaining
        if remaining == 0:
            break
        time.sleep(1)
    for reader in readers:
        reader.join(timeout=max(1, deadline - time.time()))
    stop.set()
    sampler.join()
    silent.close()
    elapsed = time.time() - start

    with open(args.rss_csv, "w") as f:
        f.write("seconds,completed,rss_mb\n")
        for seconds, done, rss in samples:
            f.write(f"{seconds:.1f},{done},{rss:.1f}\n")

    failures = []
    if completed[0] != total:
        failures.append(f"{total - completed[0]} of {total} prompts still queued after {args.timeout:.0f} s")
    history = get_json(args.server, f"/history?max_items={total}")
    finished = [pid for pid in history if pid in set(order)]
    if finished != order:
        first = next((i for i, (a, b) in enumerate(zip(finished, order)) if a != b), min(len(finished), len(order)))
        failures.append(f"history order differs from queue order at position {first} ({len(finished)} finished)")
    not_success = [pid for pid in order if history.get(pid, {}).get("status", {}).get("status_str") != "success"]
    if not_success:
        failures.append(f"{len(not_success)} prompts did not succeed, e.g. {not_success[:3]}")
    for reader in readers:
        if reader.foreign:
            failures.append(f"client {reader.client_id} got {len(reader.foreign)} messages of other clients' prompts")
        if reader.succeeded != reader.mine:
            failures.append(f"client {reader.client_id} got execution_success for "
                            f"{len(reader.succeeded)} of its {len(reader.mine)} prompts")
        if reader.errors:
            failures.append(f"client {reader.client_id}: execution errors {reader.errors[:2]}")

    # Once the output cache is full (its budget is the server's --cache-budget) memory must level off:
    # what it grows over the second half of the run is what a longer run would keep adding.
    warm = [rss for _, done, rss in samples if done >= total // 2]
    baseline = warm[0] if warm else float("nan")
    peak = max(rss for _, _, rss in samples)
    growth = max(warm) - baseline if warm else float("nan")
    print(f"load: {total} prompts ({args.prompts} over {len(readers)} readers, {extra} for a silent client, "
          f"{extra} for a vanished one) queued in {queued_in:.1f} s, all done in {elapsed:.1f} s "
          f"({total / elapsed:.2f} prompts/s)")
    print(f"load: RSS {samples[0][2]:.1f} MB at start, {baseline:.1f} MB after {total // 2} prompts, "
          f"peak {peak:.1f} MB, growth over the second half {growth:.1f} MB (bound {args.max_growth_mb:.0f}); "
          f"curve in {args.rss_csv}")
    if not growth <= args.max_growth_mb:
        failures.append(f"RSS grew {growth:.1f} MB over the second half (bound {args.max_growth_mb:.0f} MB)")
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
