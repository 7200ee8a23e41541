"""The analyze and plan click commands."""

from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
from click.testing import CliRunner

from analysis.commands import analyze, plan
from tests.analysis.support import REFERENCE, ref_questionnaire

RESPONSES = str(REFERENCE / "responses.csv")
VOLUMES = str(REFERENCE / "volumes.csv")
QFILE = str(REFERENCE / "ref-v1.toml")


def run(cmd, args):
    return CliRunner().invoke(cmd, args, catch_exceptions=False)


def test_json_output_structure():
    r = run(
        analyze,
        [
            "--responses",
            RESPONSES,
            "--questionnaire-file",
            QFILE,
            "--volumes",
            VOLUMES,
            "--target",
            "0.7",
            "--by",
            "desk",
            "--by",
            "month",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["questionnaire"] == "ref@1" and res["n_responses"] == 198
    keys = {
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n",
        "n_eff",
        "deff",
        "target",
        "verdict",
        "p_value",
        "more_needed",
    }
    assert keys <= set(res["overall"])
    assert keys | {"code"} <= set(res["criteria"][0]) and keys | {"code"} <= set(res["items"][0])
    assert keys <= set(res["overall_item"])
    assert {"key", "overall", "n"} <= set(res["groups"]["desk"][0])
    assert [g["key"] for g in res["groups"]["month"]] == ["2025-03", "2025-04"]
    assert res["design"]["lonely_psu_strata"] == 1
    assert 1 <= res["mean_score"]["estimate"] <= 5


def test_questionnaire_by_id(monkeypatch):
    calls = []

    def find(qid, version=None, directory=None):
        calls.append((qid, version))
        return ref_questionnaire()

    loader = types.ModuleType("questionnaires.loader")
    loader.find = find
    loader.parse_key = lambda key: (
        key.split("@")[0],
        int(key.split("@")[1]) if "@" in key else None,
    )
    monkeypatch.setitem(sys.modules, "questionnaires.loader", loader)
    r = run(analyze, ["--responses", RESPONSES, "--questionnaire", "ref@1", "--format", "text"])
    assert r.exit_code == 0, r.output
    assert calls == [("ref", 1)]
    assert "Overall index" in r.output and "B3" in r.output


def test_text_and_bootstrap(tmp_path):
    out = tmp_path / "r.txt"
    r = run(
        analyze,
        [
            "--responses",
            RESPONSES,
            "--questionnaire-file",
            QFILE,
            "--method",
            "bootstrap",
            "--replicates",
            "50",
            "--seed",
            "3",
            "--interval",
            "korn-graubard",
            "--format",
            "text",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert "method bootstrap" in text and "korn-graubard" in text


def test_df_option_chooses_the_interval_df():
    args = ["--responses", RESPONSES, "--questionnaire-file", QFILE, "--format", "json"]
    default = json.loads(run(analyze, args).output)
    design = json.loads(run(analyze, [*args, "--df", "design"]).output)
    assert default["design"]["df_rule"] == "satterthwaite"
    assert design["design"]["df_rule"] == "design"
    for res in (default, design):
        assert res["overall"]["df"] == 14  # the minimum-design rule's df either way
    assert default["overall"]["df_interval"] < 14 == design["overall"]["df_interval"]
    assert default["overall"]["ci_low"] < design["overall"]["ci_low"]
    text = run(analyze, [*args[:-1], "text", "--df", "design"]).output
    assert "(design df), design df 14" in text
    bad = CliRunner().invoke(analyze, [*args, "--df", "kish"])
    assert bad.exit_code == 2 and "--df" in bad.output


def test_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "r.xlsx"
    r = run(
        analyze,
        [
            "--responses",
            RESPONSES,
            "--questionnaire-file",
            QFILE,
            "--volumes",
            VOLUMES,
            "--target",
            "0.7",
            "--by",
            "desk",
            "--format",
            "xlsx",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert {"Summary", "Items", "By desk"} <= set(wb.sheetnames)
    cell = wb["Summary"]["B2"]
    assert isinstance(cell.value, float) and 0 < cell.value < 1
    assert cell.number_format == "0.0%"
    assert (
        run(
            analyze, ["--responses", RESPONSES, "--questionnaire-file", QFILE, "--format", "xlsx"]
        ).exit_code
        == 2
    )


def _broken(tmp_path, name, edit):
    path = tmp_path / name
    lines = (REFERENCE / name).read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return str(path)


def _set(lines, row, col, value):
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(col)] = value
    lines[row] = ",".join(cells)
    return lines


@pytest.mark.parametrize(
    "edit_responses, edit_volumes, expected",
    [
        (lambda ls: [ls[0].replace("HL", "XX"), *ls[1:]], None, "'XX'"),
        (lambda ls: _set(ls, 7, "B2", "9"), None, "row 7"),
        (lambda ls: _set(ls, 12, "day", "2025-02-30"), None, "row 12"),
        (lambda ls: [ls[0].replace("sector", "sektor"), *ls[1:]], None, "'sektor'"),
        (None, lambda ls: [ls[0], *[x for x in ls[1:] if not x.startswith("D3,")]], "desk=D3"),
        (None, lambda ls: [ls[0], ls[1].split(",")[0] + ",lots", *ls[2:]], "row 1"),
    ],
)
def test_bad_input_exit_2(tmp_path, edit_responses, edit_volumes, expected):
    responses = _broken(tmp_path, "responses.csv", edit_responses or (lambda x: x))
    volumes = _broken(tmp_path, "volumes.csv", edit_volumes or (lambda x: x))
    r = CliRunner().invoke(
        analyze,
        [
            "--responses",
            responses,
            "--questionnaire-file",
            QFILE,
            "--volumes",
            volumes,
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 2
    assert expected in r.output


def test_missing_files_exit_2(tmp_path):
    r = CliRunner().invoke(
        analyze, ["--responses", str(tmp_path / "none.csv"), "--questionnaire-file", QFILE]
    )
    assert r.exit_code == 2 and "not found" in r.output
    shutil.copy(RESPONSES, tmp_path / "x.csv")
    r = CliRunner().invoke(analyze, ["--responses", str(tmp_path / "x.csv")])
    assert r.exit_code == 2


def test_plan():
    r = run(plan, ["--target", "0.85", "--expected", "0.88"])
    assert r.exit_code == 0 and r.output.startswith("1053 responses to show 88% > 85%")
    r = run(plan, ["--target", "0.85", "--expected", "0.88", "--deff", "2", "--format", "json"])
    assert json.loads(r.output)["n"] == 2106 and json.loads(r.output)["sides"] == 2
    assert CliRunner().invoke(plan, ["--target", "0.85", "--expected", "0.85"]).exit_code == 2
