"""`gan-lab board`: a real TensorBoard server over a finished run, queried through its HTTP data API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_tensorboard_serves_the_run(tiny_run):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gan_lab", "board", str(tiny_run), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "no_proxy": "localhost,127.0.0.1"},
    )
    try:
        base = f"http://localhost:{port}/data/plugin"
        deadline = time.time() + 60
        while True:
            try:
                scalars = get_json(f"{base}/scalars/tags")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.time() < deadline, "TensorBoard did not start within 60 s"
                time.sleep(0.5)
        run_tags = {tag for tags in scalars.values() for tag in tags}
        assert {"loss/D", "loss/G", "prob/D_real", "grad_norm/G/00_project"} <= run_tags
        images = get_json(f"{base}/images/tags")
        image_tags = {tag for tags in images.values() for tag in tags}
        assert {"samples/fixed", "real"} <= image_tags
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
