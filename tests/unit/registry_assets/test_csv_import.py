"""Bulk CSV import: per-row errors with line numbers, good rows kept, idempotent, forward references."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ies.errors import UsageError
from ies.registry import assets as A
from ies.registry.assets.tables import AssetEntityRow, AssetVersionRow

SAMPLE = A.sample_csv_path().read_text(encoding="utf-8")
D = "did:web:ies.discom.example"


def _versions(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(AssetVersionRow)) or 0


def _classes(s: Session) -> Counter[str]:
    return Counter(s.scalars(select(AssetEntityRow.entity_class)))


def test_the_sample_network_imports_completely(session: Session) -> None:
    report = A.import_csv(session, SAMPLE, actor="loader", source="sample_network.csv")
    session.commit()
    assert report.errors == [] and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (37, 37, 0, 0)
    assert _classes(session) == {
        "discom": 1, "substation": 1, "feeder": 2, "dt": 4, "service-point": 8, "meter": 9, "consumer": 8,
        "solar": 2, "bess": 1, "ev-charger": 1,
    }  # fmt: skip
    path = [e.id for e in A.ancestors(session, f"{D}:assets:meter:NM-44090001")]
    assert path == [
        f"{D}:connections:SP-0001", f"{D}:assets:dt:DT-11KV-F01-101", f"{D}:assets:feeder:F01",
        f"{D}:assets:substation:SS-66KV-MRT-01", D,
    ]  # fmt: skip
    spare = A.get_entity(session, f"{D}:assets:meter:NM-44099999")
    assert spare.status == "PLANNED" and spare.parent_id is None
    first = A.history(session, f"{D}:assets:bess:BESS-0001")[0]
    assert first.changed_by == "loader" and first.reason == "import sample_network.csv line 35"


def test_reimporting_the_same_file_changes_nothing(session: Session) -> None:
    A.import_csv(session, SAMPLE, actor="loader")
    before = _versions(session)
    again = A.import_csv(session, SAMPLE, actor="loader")
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 37, [])
    assert _versions(session) == before


def test_a_changed_file_updates_only_what_changed(session: Session) -> None:
    A.import_csv(session, SAMPLE, actor="loader")
    reader = csv.DictReader(io.StringIO(SAMPLE))
    rows = list(reader)
    (dt,) = [r for r in rows if r["id"] == "DT-11KV-F01-101"]
    dt |= {"status": "SUSPENDED", "rated_kva": "400"}
    changed = csv_text(rows, list(reader.fieldnames or []))
    report = A.import_csv(session, changed, actor="loader2")
    assert (report.updated, report.unchanged) == (1, 36)
    last = A.history(session, f"{D}:assets:dt:DT-11KV-F01-101")[-1]
    assert last.diff == {
        "status": {"old": "ACTIVE", "new": "SUSPENDED"},
        "attributes.rated_kva": {"old": 250, "new": 400},
    }
    assert last.changed_by == "loader2"


def test_columns_missing_from_the_file_are_left_alone(session: Session) -> None:
    A.import_csv(session, SAMPLE, actor="loader")
    dt = f"{D}:assets:dt:DT-11KV-F01-101"
    before = A.get_entity(session, dt)
    report = A.import_csv(session, "class,id,make\ndt,DT-11KV-F01-101,Voltamp\n", actor="fixer")
    assert (report.updated, report.errors) == (1, [])
    after = A.get_entity(session, dt)
    assert after.parent_id == before.parent_id and after.status == before.status
    assert after.attributes == {**before.attributes, "make": "Voltamp"}
    assert A.history(session, dt)[-1].diff == {
        "attributes.make": {"old": "Kirloskar Electric", "new": "Voltamp"}
    }
    cleared = A.import_csv(session, "class,id,make,model\ndt,DT-11KV-F01-101,,\n", actor="fixer")
    assert cleared.updated == 1 and "make" not in A.get_entity(session, dt).attributes  # blank cell: no value
    detach = A.import_csv(session, "class,id,parent\nmeter,NM-44099999,SP-0002\n", actor="fixer")
    assert detach.updated == 1 and A.get_entity(session, f"{D}:assets:meter:NM-44099999").parent_id == (
        f"{D}:connections:SP-0002"
    )


def test_rows_may_name_parents_defined_later_in_the_file(session: Session) -> None:
    header, *rows = SAMPLE.splitlines()
    rows.reverse()
    random.Random(7).shuffle(rows[5:])
    report = A.import_csv(session, "\n".join([header, *rows]), actor="loader")
    assert report.errors == [] and report.created == 37


COLUMNS = [
    "class", "id", "parent", "status", "discom", "name", "voltage_kv", "primary_voltage_kv",
    "secondary_voltage_kv", "rated_kva", "secondary_voltage_v", "meter_type", "category", "sanctioned_load_w",
    "connection_type",
]  # fmt: skip
DT_ATTRS = {"primary_voltage_kv": "11", "secondary_voltage_v": "433"}
SP_ATTRS = {"sanctioned_load_w": "5000", "connection_type": "SINGLE_PHASE"}
BAD_ROWS: list[dict[str, str]] = [  # line numbers: the header is line 1, so row i is on line i + 2
    {"class": "discom", "id": "grid.example", "name": "Grid Co"},
    {"class": "meter", "id": "M-ORPHAN", "parent": "SP-404", "meter_type": "AMI"},  # 3: no such parent
    {"class": "feeder", "id": "F-1", "parent": "SS-1", "voltage_kv": "11"},  # parent on the next line
    {"class": "substation", "id": "SS-1", "parent": "grid.example", "primary_voltage_kv": "33",
     "secondary_voltage_kv": "11"},
    {"class": "dt", "id": "DT-1", "parent": "F-1", "rated_kva": "250", **DT_ATTRS},
    {"class": "dt", "id": "DT-BAD", "parent": "F-1", "rated_kva": "-5", **DT_ATTRS},  # 7: bad rating
    {"class": "service-point", "id": "SP-1", "parent": "DT-1", **SP_ATTRS},
    {"class": "service-point", "id": "SP-2", "parent": "DT-BAD", **SP_ATTRS},  # 9: parent refused
    {"class": "meter", "id": "M-1", "parent": "SP-1", "meter_type": "AMI"},
    {"class": "meter", "id": "M-1", "parent": "SP-1", "meter_type": "AMR"},  # 11: duplicate
    {"class": "consumer", "id": "C-1", "parent": "SP-1", "status": "RETIRED", "category": "PUBLIC"},  # 12
    {"class": "consumer", "id": "C-2", "parent": "SP-1", "rated_kva": "250", "category": "PUBLIC"},  # 13
    {"class": "gizmo", "id": "G-1", "parent": "SP-1"},  # 14: unknown class
    {"class": "meter", "id": "M-2", "parent": "did:web:grid.example:assets:dt:DT-1", "meter_type": "AMI"},
]  # fmt: skip


def csv_text(rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_bad_rows_are_reported_by_line_and_good_rows_are_kept(session: Session) -> None:
    report = A.import_csv(session, csv_text(BAD_ROWS), actor="loader")
    session.commit()
    errors = {e.line: (e.code, e.message) for e in report.errors}
    assert sorted(errors) == [3, 7, 9, 11, 12, 13, 14, 15]
    assert errors[3][0] == "ASSET_PARENT_NOT_FOUND"
    assert errors[7][0] == "ASSET_INVALID_ATTRIBUTES" and "rated_kva" in errors[7][1]
    assert errors[9] == (
        "ASSET_PARENT_NOT_FOUND",
        "parent did:web:grid.example:assets:dt:DT-BAD was refused on line 7",
    )
    assert errors[11][0] == "USAGE" and "already on line 10" in errors[11][1]
    assert errors[12][0] == "USAGE" and "RETIRED" in errors[12][1]
    assert errors[13][0] == "USAGE" and "rated_kva does not apply to a consumer" in errors[13][1]
    assert errors[14][0] == "USAGE" and "unknown entity class 'gizmo'" in errors[14][1]
    assert errors[15][0] == "ASSET_WRONG_PARENT"
    assert [(e.entity_class, e.local_id) for e in report.errors][:2] == [
        ("meter", "M-ORPHAN"),
        ("dt", "DT-BAD"),
    ]
    assert report.created == 6
    kept = set(session.scalars(select(AssetEntityRow.local_id)))
    assert kept == {"grid.example", "SS-1", "F-1", "DT-1", "SP-1", "M-1"}
    assert A.get_entity(session, "did:web:grid.example:assets:meter:M-1").attributes["meter_type"] == "AMI"
    assert _versions(session) == 6  # refused rows leave no version behind


def test_the_discom_column_and_default(session: Session) -> None:
    rows = [
        {"class": "discom", "id": "a.example", "name": "A"},
        {"class": "discom", "id": "b.example", "name": "B"},
        {"class": "substation", "id": "SS-1", "parent": "a.example", "primary_voltage_kv": "33",
         "secondary_voltage_kv": "11"},
    ]  # fmt: skip
    report = A.import_csv(session, csv_text(rows), actor="loader")
    assert [e.line for e in report.errors] == [4] and "no default DISCOM" in report.errors[0].message
    assert A.import_csv(session, csv_text(rows), actor="loader", default_discom="a.example").created == 1
    rows[2] |= {"discom": "b.example", "id": "SS-2"}
    wrong = A.import_csv(session, csv_text(rows), actor="loader")
    assert [e.code for e in wrong.errors] == ["ASSET_WRONG_PARENT"]
    odd = A.import_csv(
        session, csv_text([{"class": "discom", "id": "c.example", "discom": "a.example"}]), actor="l"
    )
    assert [e.message for e in odd.errors] == [
        "a DISCOM row's discom must be blank or its own id, not 'a.example'"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("id,parent\nM-1,SP-1\n", "missing column(s) class"),
        ("class,id,colour\nmeter,M-1,red\n", "unknown column(s) colour"),
        ("class,id,id\nmeter,M-1,M-2\n", "repeats column(s) id"),
        ('class,id\nmeter,"M-1\n', "malformed"),
    ],
)
def test_unusable_files_are_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        A.import_csv(Session(), text, actor="loader")  # refused before the database is touched


def test_line_numbers_count_quoted_cells_that_span_lines(session: Session) -> None:
    text = (
        "class,id,parent,sanctioned_load_w,connection_type,address\n"
        'service-point,SP-1,DT-404,5000,SINGLE_PHASE,"12, Sector 4,\nMeerut"\n'
        "service-point,SP-2,DT-404,lots,SINGLE_PHASE,\n"
    )
    report = A.import_csv(session, text, actor="loader", default_discom="grid.example")
    assert [(e.line, e.local_id) for e in report.errors] == [(2, "SP-1"), (4, "SP-2")]


def test_extra_cells_and_blank_lines(session: Session) -> None:
    text = "class,id,name\ndiscom,grid.example,Grid\n\n,,\ndiscom,x.example,X,surplus\n"
    report = A.import_csv(session, text, actor="loader")
    assert report.created == 1 and [(e.line, e.message) for e in report.errors] == [
        (5, "row has more cells than the header has columns")
    ]
