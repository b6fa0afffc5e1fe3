#!/usr/bin/env python3
"""ComfyUI's own web UI (comfyui-frontend-package) against `latentflow serve`, in headless
Chromium driven by Selenium: load the page, wait for the default workflow, point it at the tiny
model (64x64), press the UI's Run button, wait for the image in /history, fetch it via /view,
save a screenshot.

Usage: web_ui_test.py HOST:PORT SCREENSHOT.png [--timeout 240]
Exits non-zero (with a message) when a step fails.
"""
import argparse
import json
import sys
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

TINY_CHECKPOINT = "latentflow-tiny-sd15.safetensors"


def fail(message):
    print(f"web UI test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def get_json(server, path):
    with urllib.request.urlopen(f"http://{server}{path}") as response:
        return json.loads(response.read())


def wait_for(what, timeout, probe):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    fail(f"timed out after {timeout} s waiting for {what}")


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1600,1000", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# The default graph the UI loads for a new user (CheckpointLoaderSimple, two CLIPTextEncode,
# EmptyLatentImage 512x512, KSampler, VAEDecode, SaveImage), moved to the tiny model at 64 px.
ADJUST_DEFAULT_WORKFLOW = """
const nodes = window.app.graph._nodes;
const widget = (type, name) => {
  const node = nodes.find(n => n.type === type);
  return node && node.widgets.find(w => w.name === name);
};
const checkpoint = widget('CheckpointLoaderSimple', 'ckpt_name');
if (!checkpoint) return 'no ckpt_name widget in the default workflow: ' + JSON.stringify(nodes.map(n => [n.type, (n.widgets || []).map(w => w.name)]));
checkpoint.value = arguments[0];
widget('EmptyLatentImage', 'width').value = 64;
widget('EmptyLatentImage', 'height').value = 64;
window.app.graph.setDirtyCanvas(true, true);
return nodes.map(n => n.type).sort().join(',');
"""


def press_run(driver):
    """The UI's queue button ("Run" in this frontend); a click, as a user would."""
    for xpath in ["//button[@data-testid='queue-button']",
                  "//button[.//span[normalize-space()='Run']]",
                  "//button[normalize-space()='Run']",
                  "//button[contains(., 'Queue')]"]:
        buttons = [b for b in driver.find_elements(By.XPATH, xpath) if b.is_displayed()]
        if buttons:
            buttons[0].click()
            return xpath
    fail("no Run / Queue button on the page")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("screenshot")
    parser.add_argument("--timeout", type=int, default=240)
    args = parser.parse_args()
    started = time.time()

    # A returning user: a new one gets the template browser over an empty canvas (ComfyUI's
    # templates are a separate wheel, not served here) instead of the default workflow.
    request = urllib.request.Request(f"http://{args.server}/settings", method="POST",
                                     data=json.dumps({"Comfy.TutorialCompleted": True}).encode())
    urllib.request.urlopen(request).read()

    driver = make_driver()
    try:
        driver.set_page_load_timeout(args.timeout)
        driver.get(f"http://{args.server}/")
        wait_for("the UI to load the default workflow", args.timeout, lambda: driver.execute_script(
            "return !!(window.app && window.app.graph && window.app.graph._nodes.length >= 7"
            " && document.querySelector('canvas'))"))
        loaded = time.time()
        types = driver.execute_script(ADJUST_DEFAULT_WORKFLOW, TINY_CHECKPOINT)
        if not types.startswith("CLIPTextEncode"):
            fail(types)
        print(f"web UI test: default workflow loaded ({types}) in {loaded - started:.1f} s")

        before = set(get_json(args.server, "/history").keys())
        print(f"web UI test: pressed {press_run(driver)}")

        def finished_entry():
            history = get_json(args.server, "/history")
            new = [entry for key, entry in history.items() if key not in before]
            return new[0] if new else None

        entry = wait_for("the prompt in /history", args.timeout, finished_entry)
        if not entry.get("status", {}).get("completed"):
            fail(f"the prompt did not complete: {json.dumps(entry.get('status'))}")
        images = [image for output in entry["outputs"].values() for image in output.get("images", [])]
        if not images:
            fail(f"no image in the history entry: {json.dumps(entry['outputs'])}")
        image = images[0]
        query = urllib.parse.urlencode({k: image[k] for k in ("filename", "subfolder", "type")})
        with urllib.request.urlopen(f"http://{args.server}/view?{query}") as response:
            png = response.read()
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            fail("/view did not return a PNG")
        embedded = entry["prompt"][2]
        if not any(node.get("class_type") == "SaveImage" for node in embedded.values()):
            fail("the queued prompt has no SaveImage")
        # The UI shows the result on the SaveImage node once `executed` arrives over /ws.
        wait_for("the image on the SaveImage node", 30, lambda: driver.execute_script(
            "const n = window.app.graph._nodes.find(n => n.type === 'SaveImage');"
            " return !!(n && n.imgs && n.imgs.length && n.imgs[0].complete);"))
        # The whole graph in view for the screenshot (the UI's "Fit view" command, key ".").
        driver.execute_script("window.app.extensionManager.command.execute('Comfy.Canvas.FitView')")
        time.sleep(1.5)
        driver.save_screenshot(args.screenshot)
        severe = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        for message in severe:
            print(f"web UI test: browser console: {message}", file=sys.stderr)
        print(f"web UI test: OK: {image['filename']} ({len(png)} bytes), screenshot {args.screenshot},"
              f" {time.time() - started:.1f} s in all")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
