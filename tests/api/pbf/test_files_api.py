"""Templates (XLSX and CSV) per programme, period and step, and imports of filled files:
row-level errors, nothing partially imported."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from tests.api.pbf.helpers import entry, programme, step

URL = "/api/v1/pbf/programmes/FBR-MR"


def _xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _rows(client, headers):
    response = await client.get(f"{URL}/declarations", params={"period": "201601"}, headers=headers)
    return {(d["org_unit_id"], d["activity"]): d for d in response.json()}


async def test_the_xlsx_template_lists_each_contracted_facility_and_activity(client, auth):
    manager = await auth("demo.pbf_manager")
    await programme(client, manager, facilities=("CH-TZ", "CH-NEMA"))
    response = await client.get(
        f"{URL}/templates/201601", headers=manager, params={"step": "declare"}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == (
        "org_unit_code",
        "org_unit_name",
        "period",
        "package",
        "activity_code",
        "activity_name",
        "claimed",
    )
    assert sorted((r[0], r[4]) for r in rows[1:]) == [
        ("CH-NEMA", "act1"),
        ("CH-NEMA", "act2"),
        ("CH-TZ", "act1"),
        ("CH-TZ", "act2"),
    ]


async def test_a_filled_xlsx_is_imported_then_verified_from_a_csv(client, auth):
    manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
    tz = (await programme(client, manager))["CH-TZ"]
    template = await client.get(f"{URL}/templates/201601", headers=manager)
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True)
    ]
    rows[1][6], rows[2][6] = 40, "12,5"  # a French decimal comma is read
    imported = await client.post(
        f"{URL}/imports/declare",
        headers=manager,
        content=_xlsx(rows),
        params={"filename": "declarations.xlsx"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"created": 2, "updated": 0}
    csv_template = await client.get(
        f"{URL}/templates/201601", headers=verifier, params={"step": "verify", "format": "csv"}
    )
    assert csv_template.headers["content-type"].startswith("text/csv")
    lines = csv_template.content.decode("utf-8-sig").splitlines()
    assert lines[0].endswith("claimed,verified") and lines[1].endswith(",40,")
    filled = "\n".join(
        [
            lines[0].replace(",", ";"),
            lines[1].replace(",", ";") + "33",
            lines[2].replace(",", ";") + "NA",
        ]
    )
    verified = await client.post(
        f"{URL}/imports/verify",
        headers=verifier,
        content=filled.encode(),
        params={"filename": "acv.csv"},
    )
    assert verified.status_code == 200, verified.text
    stored = await _rows(client, manager)
    assert float(stored[(tz["id"], "act1")]["verified"]) == 33
    assert float(stored[(tz["id"], "act2")]["claimed"]) == 12.5
    assert stored[(tz["id"], "act2")]["verified"] is None
    assert stored[(tz["id"], "act2")]["status"] == "verified"


async def test_an_invalid_file_lists_every_bad_row_and_imports_nothing(client, auth):
    manager = await auth("demo.pbf_manager")
    tz = (await programme(client, manager))["CH-TZ"]
    await step(client, manager, "declare", entry(tz, "201601", "act1", 1))
    header = [
        "org_unit_code",
        "org_unit_name",
        "period",
        "package",
        "activity_code",
        "activity_name",
        "claimed",
    ]
    rows = [
        header,
        ["CH-TZ", "", "201601", "quantity", "act2", "", 5],  # 2: valid
        ["CH-XX", "", "201601", "quantity", "act2", "", 5],  # 3: unknown facility
        ["CH-TZ", "", "201601", "quantity", "act9", "", 5],  # 4: unknown activity
        ["CH-TZ", "", "201601", "quantity", "act2", "", "abc"],  # 5: not a number
        ["CH-TZ", "", "201601", "quantity", "act2", "", 6],  # 6: repeats row 2
        ["CH-TZ", "", "", "quantity", "act1", "", None],  # 7: blank, skipped
        ["CS-KSAR", "", "201601", "quantity", "act1", "", 2],  # 8: no contract
    ]
    response = await client.post(f"{URL}/imports/declare", headers=manager, content=_xlsx(rows))
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == [
        "rows.3.org_unit_code",
        "rows.4.activity",
        "rows.5.claimed",
        "rows.6.activity",
        "rows.8.org_unit",
    ]
    assert response.json()["detail"].startswith("5 ")  # "5 lignes sont invalides ; rien…"
    stored = await _rows(client, manager)
    assert (
        list(stored) == [(tz["id"], "act1")] and float(stored[(tz["id"], "act1")]["claimed"]) == 1
    )


async def test_a_file_without_the_step_column_or_not_a_table_is_refused(client, auth):
    manager = await auth("demo.pbf_manager")
    await programme(client, manager)
    wrong = await client.post(
        f"{URL}/imports/declare",
        headers=manager,
        content=b"org_unit_code,period,package,activity_code,verified\nCH-TZ,201601,quantity,act1,3\n",
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "header"
    garbage = await client.post(
        f"{URL}/imports/declare", headers=manager, content=b"PK\x03\x04garbage"
    )
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["field"] == "file"
