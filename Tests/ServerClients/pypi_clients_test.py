#!/usr/bin/env python3
"""Drives `latentflow serve` with two ComfyUI client packages from PyPI, used as their READMEs show
(issue 19, item 8): `comfy_api_simplified` (ComfyApiWrapper / ComfyWorkflowWrapper: edit node inputs
by title, queue, wait on the WebSocket, fetch the images from /history and /view) and Comfy-Org's
own `comfy-cli` (`comfy run --workflow FILE --host H --port P --wait`).

Usage: pypi_clients_test.py HOST:PORT WORKFLOW.json COMFY_EXECUTABLE
WORKFLOW is an API-format workflow with nodes titled "Empty Latent Image", "KSampler" and
"Save Image". Exits non-zero with a message when a client does not get what ComfyUI would give it.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import urllib.request

from comfy_api_simplified import ComfyApiWrapper, ComfyWorkflowWrapper


def fail(message):
    sys.exit(f"FAIL: {message}")


def png_size(data):
    """Width and height from a PNG's IHDR chunk (the first chunk, at byte 8)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        fail(f"not a PNG: {data[:16]!r}")
    return struct.unpack(">II", data[16:24])


def check_simplified(server, workflow_path, size):
    api = ComfyApiWrapper(f"http://{server}/")
    workflow = ComfyWorkflowWrapper(workflow_path)
    workflow.set_node_param("Empty Latent Image", "batch_size", 2)
    workflow.set_node_param("Empty Latent Image", "width", size)
    workflow.set_node_param("Empty Latent Image", "height", size)
    workflow.set_node_param("KSampler", "seed", 2**64 - 1)  # ComfyUI's largest seed
    images = api.queue_and_wait_images(workflow, "Save Image")
    if len(images) != 2:
        fail(f"comfy_api_simplified: expected 2 images, got {sorted(images)}")
    for name, data in images.items():
        if png_size(data) != (size, size):
            fail(f"comfy_api_simplified: {name} is {png_size(data)}, expected {size}x{size}")
    if len(set(images.values())) != 2:
        fail("comfy_api_simplified: the two images of the batch are identical")
    stats = api.get_system_stats()
    if "system" not in stats or "devices" not in stats:
        fail(f"comfy_api_simplified: system_stats lacks system/devices: {stats}")
    print(f"comfy_api_simplified: 2 images {size}x{size} ({', '.join(sorted(images))})")


def check_comfy_cli(server, workflow_path, comfy, size):
    host, port = server.rsplit(":", 1)
    with open(workflow_path) as f:
        workflow = json.load(f)
    for node in workflow.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"].update(width=size, height=size, batch_size=1)
    with tempfile.TemporaryDirectory() as home:
        path = os.path.join(home, "workflow.json")
        with open(path, "w") as f:
            json.dump(workflow, f)
        # A scratch HOME: comfy-cli keeps its config and job state there.
        env = dict(os.environ, HOME=home)
        command = [comfy, "--skip-prompt", "--no-enable-telemetry", "run", "--workflow", path,
                   "--host", host, "--port", port, "--wait"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if run.returncode != 0:
        fail(f"comfy-cli exited {run.returncode}: {run.stdout[-2000:]} {run.stderr[-2000:]}")
    envelope = json.loads(run.stdout.strip().splitlines()[-1])
    data = envelope.get("data") or {}
    if not envelope.get("ok") or data.get("status") != "completed":
        fail(f"comfy-cli: {envelope}")
    outputs = data.get("outputs") or []
    if len(outputs) != 1:
        fail(f"comfy-cli: expected one output URL, got {outputs}")
    with urllib.request.urlopen(outputs[0]) as response:
        image = response.read()
    if png_size(image) != (size, size):
        fail(f"comfy-cli: {outputs[0]} is {png_size(image)}")
    print(f"comfy-cli: completed, {outputs[0]} is a {size}x{size} PNG")


def main():
    server, workflow_path, comfy = sys.argv[1:4]
    check_simplified(server, workflow_path, 64)
    check_comfy_cli(server, workflow_path, comfy, 64)


if __name__ == "__main__":
    main()
