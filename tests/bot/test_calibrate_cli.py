"""`qa calibrate`, `qa calibrate --status`, `qa index info` and `qa ask --min-confidence`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from retrieval.confidence.calibration_record import CalibrationRecord

SAMPLE = Path(__file__).resolve().parents[2] / "ingest" / "sample"
QUESTION = "how do I rotate the API key?"


def _qa(cli_env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, list(args), env=cli_env)


def test_calibrate_then_status_prints_the_curve_and_index_info_says_calibrated(
    cli_env: dict[str, str], redis_client
) -> None:
    assert _qa(cli_env, "ingest", str(SAMPLE)).exit_code == 0
    info = json.loads(_qa(cli_env, "index", "info").stdout)
    assert info["calibration"]["state"] == "not calibrated"
    assert "qa calibrate" in _qa(cli_env, "calibrate", "--status").output
    # Real questions too: the bundled sample's, in a temporary index dropped afterwards.
    result = _qa(cli_env, "calibrate", "--questions", "12", "--real-questions", "10",
                 "--seed", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "sample people's questions (10 answerable, 10 not" in result.output
    status = _qa(cli_env, "calibrate", "--status")
    assert status.exit_code == 0, status.output
    assert "<- in use" in status.output and "users' verdicts: 0" in status.output
    info = json.loads(_qa(cli_env, "index", "info").stdout)["calibration"]
    assert info["state"] == "calibrated" and info["synthetic_questions"] == 12
    assert info["index_changed_since"] is False and "sentence" in info["readers"]
    expected = info["readers"]["sentence"]["expected"]["sample"]["answerable_refused"]
    assert expected["n"] == 10 and expected["low"] <= expected["share"] <= expected["high"]
    assert not [k for k in redis_client.keys("qa-eval-*")], "the sample's index is dropped"
    lower = json.loads(_qa({**cli_env, "QA_REFUSAL_TARGET": "0.02"}, "index", "info").stdout)
    higher = json.loads(_qa({**cli_env, "QA_REFUSAL_TARGET": "0.5"}, "index", "info").stdout)
    t = [x["calibration"]["readers"]["sentence"]["threshold"] for x in (lower, higher)]
    assert t[0] <= t[1], "a looser target never lowers the threshold"
    key = f"{cli_env['QA_KEY_PREFIX']}:calibration:{cli_env['QA_INDEX_NAME']}"
    stored = CalibrationRecord.from_json(redis_client.get(key)).readers["sentence"]
    for target in (0.02, 0.5):  # each honoured on both kinds of questions
        for kind in ("synthetic", "sample"):
            assert stored.refused(stored.threshold_for(target), kind)[0] <= target


def test_ask_min_confidence_refuses_and_lists_the_closest_passages(
    cli_env: dict[str, str],
) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    result = _qa(cli_env, "ask", "--min-confidence", "1", QUESTION)
    assert result.exit_code == 0, result.output
    assert "No answer: the documents don't seem to cover this question." in result.output
    assert "These come closest:" in result.output and "Security handbook" in result.output
    answer = json.loads(_qa(cli_env, "ask", "--json", "--min-confidence", "0", QUESTION).stdout)
    assert answer["answer"] and "Rotate key" in answer["answer"]
    bad = _qa(cli_env, "ask", "--min-confidence", "2", QUESTION)
    assert bad.exit_code == 2 and "--min-confidence" in bad.output


def test_a_corrupt_record_makes_status_fail_with_advice_and_info_report_it(
    cli_env: dict[str, str], redis_client
) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    key = f"{cli_env['QA_KEY_PREFIX']}:calibration:{cli_env['QA_INDEX_NAME']}"
    redis_client.set(key, b"\xff not json")
    status = _qa(cli_env, "calibrate", "--status")
    assert status.exit_code == 1 and "run `qa calibrate` again" in status.output
    info = json.loads(_qa(cli_env, "index", "info").stdout)["calibration"]
    assert info["state"] == "corrupt" and "unreadable" in info["message"]
    answer = json.loads(_qa(cli_env, "ask", "--json", QUESTION).stdout)  # the log: stderr
    assert answer["answer"] and "unreadable" in answer["explanation"]["confidence"]["status"]
