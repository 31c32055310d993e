"""schemathesis against a live server on each database: no server errors, every
response as the OpenAPI document says."""

import json
import re
import subprocess
import urllib.request

from tests.live import BIN, LiveServer

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_schemathesis_finds_no_failures(database_url, tmp_path):
    # Thousands of requests from one address: lift the per-client limit of the API.
    with LiveServer(database_url, tmp_path / "var", RATE_LIMIT_API_PER_MINUTE="100000") as server:
        server.yatri("demo-data")
        server.yatri("create-admin", "fuzz@example.com", input="fuzzing-password-1\n")
        tokens = _post_json(server.url + "/api/v1/auth/token", {"email": "fuzz@example.com", "password": "fuzzing-password-1"})
        with urllib.request.urlopen(server.url + "/api/openapi.json", timeout=10) as response:
            operations = sum(len(ops) for ops in json.loads(response.read())["paths"].values())
        run = subprocess.run(
            [
                BIN / "schemathesis", "run", server.url + "/api/openapi.json",
                "--checks", CHECKS, "--max-examples", "30", "--seed", "7", "--no-shrink",
                "--header", f"Authorization: Bearer {tokens['access_token']}",
                "--report-dir", str(tmp_path / "report"), "--workers", "1",
                "--request-timeout", "60",  # five engineers share two cores: slow is not broken
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated and generated.group(1) == generated.group(2), run.stdout[-3000:]
    assert f"Tested: {operations}" in run.stdout  # every documented operation was exercised
