#!/usr/bin/env python3
"""A ComfyUI API client in the style of ComfyUI's script_examples/websockets_api_example.py:
queue an API-format workflow with a client id, follow the WebSocket until the server says
`executing` with a null node for that prompt, then read /history and fetch each image via /view.

Usage: comfy_ws_client.py HOST:PORT WORKFLOW.json [--size 64]
Exits non-zero (with a message) when any step does not behave as ComfyUI's does.
"""
import argparse
import json
import sys
import urllib.parse
import urllib.request
import uuid

import websocket  # websocket-client


def post_json(server, path, payload):
    request = urllib.request.Request(f"http://{server}{path}", data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def get_json(server, path):
    with urllib.request.urlopen(f"http://{server}{path}") as response:
        return json.loads(response.read())


def get_bytes(server, path):
    with urllib.request.urlopen(f"http://{server}{path}") as response:
        return response.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("workflow")
    parser.add_argument("--size", type=int, default=64, help="EmptyLatentImage width and height")
    args = parser.parse_args()

    with open(args.workflow) as handle:
        prompt = json.load(handle)
    for node in prompt.values():
        if node.get("class_type") == "EmptyLatentImage":
            node["inputs"]["width"] = node["inputs"]["height"] = args.size

    client_id = str(uuid.uuid4())
    ws = websocket.WebSocket()
    ws.connect(f"ws://{args.server}/ws?clientId={client_id}", timeout=600)
    first = json.loads(ws.recv())
    assert first["type"] == "status" and first["data"]["sid"] == client_id, first

    queued = post_json(args.server, "/prompt", {"prompt": prompt, "client_id": client_id})
    prompt_id = queued["prompt_id"]
    assert queued["node_errors"] == {}, queued

    seen = []
    while True:
        message = ws.recv()
        if not isinstance(message, str):
            continue  # binary previews
        event = json.loads(message)
        seen.append(event["type"])
        data = event["data"]
        if event["type"] == "execution_error":
            sys.exit(f"execution_error: {data.get('exception_message')}")
        if event["type"] == "executing" and data["node"] is None and data["prompt_id"] == prompt_id:
            break
    ws.close()
    for expected in ("execution_start", "execution_cached", "executing", "executed", "execution_success"):
        assert expected in seen, f"no {expected} among {seen}"

    history = get_json(args.server, f"/history/{prompt_id}")[prompt_id]
    assert history["status"]["status_str"] == "success", history["status"]
    images = 0
    for output in history["outputs"].values():
        for image in output.get("images", []):
            query = urllib.parse.urlencode({"filename": image["filename"], "subfolder": image["subfolder"],
                                            "type": image["type"]})
            data = get_bytes(args.server, f"/view?{query}")
            assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{image['filename']} is not a PNG"
            images += 1
    assert images > 0, f"no images in {history['outputs']}"
    print(f"comfy_ws_client: prompt {prompt_id} ran, {images} image(s) fetched, events: {' '.join(seen)}")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
