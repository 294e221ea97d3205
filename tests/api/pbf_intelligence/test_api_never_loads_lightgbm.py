"""The API process never imports LightGBM, even when its in-process runner runs the jobs.

A fresh interpreter builds the container and the app as ``afiya.asgi`` does (every job
handler registered, the embedded in-process queue started), then trains, approves,
scores, lists flags and draws a plan through the HTTP routes. The models really ran (in
child processes): the runs are done and values are flagged. Only then does it look at
``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.jobs.registry import handlers
from tests.api.pbf_intelligence.seeding import CODE, LAST, seed_programme
from tests.conftest import FAST_HASHER, REPO, asgi_client, login, make_settings

SCRIPT = f"""
import asyncio, json, sys

from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.jobs.registry import handlers
from tests.conftest import FAST_HASHER, asgi_client, login, make_settings

URL, VAR = sys.argv[1], sys.argv[2]
BASE = "/api/v1/pbf/intelligence"
PROGRAMME = BASE + "/programmes/{CODE}"


async def main():
    loaded_at_start = "lightgbm" in sys.modules
    container = build(make_settings(URL, __import__("pathlib").Path(VAR)), hasher=FAST_HASHER)
    container.runner.register_all(handlers())
    app = create_app(container)
    await container.start()
    statuses = {{}}
    async with asgi_client(app) as client:
        h = await login(client, "demo.pbf_manager")

        async def finished(response):
            assert response.status_code == 202, response.text
            await container.queue.join()
            run = (await client.get(BASE + "/runs/" + response.json()["id"], headers=h)).json()
            statuses[run["kind"]] = run["status"]
            return run

        await finished(await client.post(
            PROGRAMME + "/training", headers=h,
            json={{"first_period": "202301", "last_period": "202311"}},
        ))
        for model in (await client.get(PROGRAMME + "/models", headers=h)).json():
            await client.post(BASE + "/models/" + model["id"] + "/approve", headers=h)
        await finished(await client.post(PROGRAMME + "/periods/{LAST}/scoring", headers=h))
        flags = (await client.get(PROGRAMME + "/periods/{LAST}/flags", headers=h)).json()
        plan = await finished(await client.post(
            PROGRAMME + "/periods/{LAST}/sampling-plans", headers=h, json={{"budget": 5}}
        ))
        read = await client.get(BASE + "/sampling-plans/" + plan["id"], headers=h)
    await container.close()
    print(json.dumps({{
        "lightgbm_at_start": loaded_at_start,
        "lightgbm": "lightgbm" in sys.modules,
        "statuses": statuses,
        "flags": len(flags["items"]),
        "plan_method": plan["method"],
        "selections": len(read.json()["selections"]),
    }}))


asyncio.run(main())
"""


async def _seed(url: str, var_dir: Path) -> None:
    container = build(make_settings(url, var_dir), hasher=FAST_HASHER)
    container.runner.register_all(handlers())
    app = create_app(container, start_jobs=False)
    try:
        async with asgi_client(app) as client:
            manager = await login(client, "demo.pbf_manager")
            await seed_programme(container, client, manager)
    finally:
        await container.close()


async def test_the_api_process_never_imports_lightgbm(sqlite_template: Any, tmp_path: Path) -> None:
    url, _ = sqlite_template.copy(tmp_path)
    await _seed(url, tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["statuses"] == {"train": "done", "score": "done", "plan": "done"}, outcome
    assert outcome["flags"] > 0
    assert outcome["plan_method"] == "model"
    assert outcome["selections"] == 5
    assert outcome["lightgbm_at_start"] is False
    assert outcome["lightgbm"] is False, "the API process imported LightGBM"
