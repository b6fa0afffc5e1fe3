#!/usr/bin/env python3
"""Seconds from `POST /prompt` to the `execution_success` message for one prompt (issue 19: what the
server adds to a run). Connects its WebSocket first, so the clock covers queueing, the run and the
reporting, as a client sees it.

Usage: time_prompt.py HOST:PORT WORKFLOW.json [--seed N]
"""
import argparse
import json
import time
import urllib.request
import uuid

import websocket  # websocket-client

parser = argparse.ArgumentParser()
parser.add_argument("server")
parser.add_argument("workflow")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
with open(args.workflow) as f:
    prompt = json.load(f)
for node in prompt.values():
    if node["class_type"] == "KSampler":
        node["inputs"]["seed"] = args.seed
client_id = str(uuid.uuid4())
ws = websocket.WebSocket()
ws.connect(f"ws://{args.server}/ws?clientId={client_id}", timeout=3600)
ws.recv()  # status
body = json.dumps({"prompt": prompt, "client_id": client_id}).encode()
start = time.perf_counter()
request = urllib.request.Request(f"http://{args.server}/prompt", data=body, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request) as response:
    prompt_id = json.loads(response.read())["prompt_id"]
while True:
    message = ws.recv()
    if isinstance(message, str):
        event = json.loads(message)
        if event["type"] in ("execution_success", "execution_error") and event["data"].get("prompt_id") == prompt_id:
            break
elapsed = time.perf_counter() - start
print(f"{event['type']} {elapsed:.3f}")
