"""``recoapi eval`` end to end: a small CSV (fast), and the real datasets (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evalkit import data_folder, synthetic_dataset

from recoapi.evaluation.cli import build_parser, main
from recoapi.evaluation.runner import PEER_ORDER, format_table, run


def write_csv(path: Path) -> Path:
    data = synthetic_dataset(n_users=80, n_items=50)
    lines = ["userId,movieId,rating,timestamp"]
    for u, i, r, t in zip(data.user, data.item, data.rating, data.time, strict=True):
        lines.append(f"{data.user_ids[u]},{data.item_ids[i]},{r / 2:g},{int(t)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_parser_defaults() -> None:
    args = build_parser().parse_args(["--dataset", "ml-100k", "--json", "out.json"])
    assert (args.dataset, args.protocol, args.seed, args.json_out) == (
        "ml-100k",
        "strong",
        0,
        Path("out.json"),
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--dataset", "x", "--json", "o", "--protocol", "random"])


def test_cli_on_a_small_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result.json"
    csv = str(write_csv(tmp_path / "small.csv"))
    code = main(["--dataset", csv, "--json", str(out), "--peers", "popularity,EASE"])
    assert code == 0
    report = json.loads(out.read_text())
    assert list(report["models"])[0] == "recoapi"
    assert {"popularity", "EASE"} <= set(report["models"])
    for result in report["models"].values():
        assert set(result["test"]) == set(report["metrics"])
        assert 0.0 <= result["test"]["NDCG@100"]["mean"] <= 1.0
    assert report["split"]["protocol"] == "strong"
    assert report["split"]["sizes"]["train_users"] == 64
    assert report["command"].startswith("recoapi eval --dataset")
    assert "recoapi_among_cold" in report["cold_items"]
    table = capsys.readouterr().out
    assert "NDCG@100" in table and "popularity" in table


def test_folds_pool_the_test_users_of_every_fold(tmp_path: Path) -> None:
    out = tmp_path / "folds.json"
    csv = str(write_csv(tmp_path / "small.csv"))
    args = ["--dataset", csv, "--json", str(out), "--peers", "EASE", "--folds", "3"]
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["command"].endswith(f"--folds 3 --json {out}")
    assert [f["description"] for f in report["folds"]][0] == report["split"]["description"]
    fold_users = [f["sizes"]["test_users"] for f in report["folds"]]
    assert report["split"]["sizes"]["test_users"] == sum(fold_users)
    for result in report["models"].values():
        assert [f["fold"] for f in result["folds"]] == [0, 1, 2]
        assert [f["test_users"] for f in result["folds"]] == fold_users
        assert len(result["per_user"]["NDCG@100"]) == sum(fold_users)
        assert result["test"]["NDCG@100"]["n"] == sum(fold_users)
        pooled = np.mean(result["per_user"]["NDCG@100"])
        assert result["test"]["NDCG@100"]["mean"] == pytest.approx(pooled, abs=1e-6)


def test_cli_reports_bad_input(tmp_path: Path) -> None:
    assert main(["--dataset", str(tmp_path / "none"), "--json", str(tmp_path / "o.json")]) == 1
    args = ["--dataset", "ml-100k", "--json", "o.json", "--peers", "SLIM"]
    assert main(args) == 1
    csv = str(write_csv(tmp_path / "small.csv"))
    args = ["--dataset", csv, "--json", str(tmp_path / "o.json"), "--folds", "6"]
    assert main(args) == 1


def test_recoapi_eval_delegates_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from recoapi.cli import main as recoapi_main

    out = tmp_path / "r.json"
    csv = str(write_csv(tmp_path / "small.csv"))
    argv = ["eval", "--dataset", csv, "--protocol", "temporal", "--seed", "3", "--json", str(out)]
    assert recoapi_main([*argv, "--peers", "popularity"]) == 0
    report = json.loads(out.read_text())
    assert (report["split"]["protocol"], report["seed"]) == ("temporal", 3)
    assert "popularity" in capsys.readouterr().out


def test_format_table_markdown() -> None:
    cell = {"mean": 0.5, "sem": 0.01, "n": 3}
    report = {"metrics": ["NDCG@100"], "models": {"m": {"test": {"NDCG@100": cell}}}}
    assert format_table(report, markdown=True).splitlines() == [
        "| model | NDCG@100 |",
        "|---|---:|",
        "| m | 0.5000 ± 0.0100 |",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["ml-100k", "ml-latest-small"])
def test_strong_generalization_on_movielens(dataset: str, tmp_path: Path) -> None:
    report = run(dataset, "strong", 0, tmp_path / "out.json", data_dir=data_folder(dataset).parent)
    best_peer = max(report["models"][p]["test"]["NDCG@100"]["mean"] for p in PEER_ORDER)
    assert best_peer > report["models"]["popularity"]["test"]["NDCG@100"]["mean"]
    assert report["models"]["recoapi"]["test"]["NDCG@100"]["mean"] > 0.3
