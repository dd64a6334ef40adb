"""``recoapi demo movielens``: the walkthrough on ml-latest-small, the CLI, the download path."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from movielens import ML_SMALL
from recoapi.cli import main
from recoapi.demo.data import NAME, ZIP_SHA256, DatasetError, download, is_dataset, load, locate
from recoapi.demo.movielens import SESSION, USUAL_SUSPECTS, DemoOptions, pick_light_user, run
from server import ROOT_EMAIL, ROOT_PASSWORD, ServerProcess

ZIP = ML_SMALL.parent / f"{NAME}.zip"
CRIME = {"Crime", "Thriller", "Mystery", "Film-Noir"}


@pytest.fixture(scope="module")
def movielens_small() -> Path:
    if not ML_SMALL.exists():
        pytest.skip(f"MovieLens data not found at {ML_SMALL}")
    return ML_SMALL


def test_demo_on_ml_latest_small(movielens_small: Path) -> None:
    """The embedded-server path, end to end, as ``make demo`` runs it (without bars)."""
    out = io.StringIO()
    start = time.perf_counter()
    report = run(DemoOptions(data=movielens_small, progress=False), out)
    assert time.perf_counter() - start < 180
    text = out.getvalue()
    ml = load(movielens_small)

    assert "The 8 films most similar to The Usual Suspects (1995):" in text
    assert len(report.similar) == 8 and USUAL_SUSPECTS not in report.similar
    assert sum(bool(CRIME & set(ml.genre_lists[i])) for i in report.similar) >= 6

    user = pick_light_user(ml.ratings)
    rated = set(ml.ratings["item_id"][ml.ratings["user_id"] == user].tolist())
    assert report.user_id == user == 2 and len(rated) < 30
    assert f"User {user} has rated {len(rated)} films" in text
    assert {i for i, _ in report.user_ratings} == rated
    assert len(report.user_recos) == 8 and not set(report.user_recos) & rated

    assert len(report.session_recos) == 8 and not set(report.session_recos) & set(SESSION)
    assert "The 8 recommendations for this session:" in text
    assert "Star Wars: Episode V - The Empire Strikes Back (1980)" in text

    assert (
        report.disliked == report.user_recos[0] and report.disliked not in report.user_recos_after
    )
    assert f"rates {_title(ml, report.disliked)} 1/10" in text
    for section in (
        report.similar,
        report.user_recos,
        report.session_recos,
        report.user_recos_after,
    ):
        for movie in section:
            assert re.search(rf"^\s+\d+\*?\s+{movie}\s", text, re.M), movie
    assert "Done in" in text


def _title(ml: Any, movie: int) -> str:
    from recoapi.demo.tables import display_title

    return display_title(ml.titles[movie])


def _tiny_movielens(folder: Path) -> Path:
    """A few films (with the walkthrough's ids) and two taste groups, as ml-latest-small."""
    folder.mkdir(parents=True)
    films = [
        (50, "Usual Suspects, The (1995)", "Crime|Mystery|Thriller"),
        (47, "Seven (1995)", "Mystery|Thriller"),
        (296, "Pulp Fiction (1994)", "Comedy|Crime"),
        (1196, "Star Wars: Episode V (1980)", "Sci-Fi"),
        (1210, "Star Wars: Episode VI (1983)", "Sci-Fi"),
        (780, "Independence Day (1996)", "Sci-Fi"),
        (1373, "Star Trek V (1989)", "Sci-Fi"),
        (1924, "Plan 9 from Outer Space (1959)", "Horror"),
        (260, "Star Wars (1977)", "Sci-Fi"),
        (6, "Heat", "(no genres listed)"),
    ]
    (folder / "movies.csv").write_text(
        "movieId,title,genres\r\n" + "".join(f'{i},"{t}",{g}\r\n' for i, t, g in films)
    )
    crime, scifi = [50, 47, 296, 6], [1196, 1210, 780, 1373, 260, 1924]
    rows = [(u, m, 4.5 if m in crime else 1.0) for u in range(1, 6) for m in crime + scifi[:2]]
    rows += [(u, m, 4.5 if m in scifi else 1.0) for u in range(6, 12) for m in scifi + crime[:1]]
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\r\n"
        + "".join(f"{u},{m},{r},{1500000000 + n}\r\n" for n, (u, m, r) in enumerate(rows))
    )
    (folder / "tags.csv").write_text(
        'userId,movieId,tag,timestamp\r\n1,50,"Twist Ending!",1\r\n'
        "2,50,twist ending,2\r\n3,260,space,3\r\n"
    )
    return folder


def test_cli_demo_against_a_running_server(
    server: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tiny_movielens(tmp_path / "tiny")
    code = main(
        [
            "--log-level",
            "warning",
            "demo",
            "movielens",
            "--data",
            str(data),
            "--host",
            server.url,
            "--email",
            ROOT_EMAIL,
            "--password",
            ROOT_PASSWORD,
            "--no-progress",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"server: {server.url} (given with --host)" in out
    assert "uploaded 10 movies" in out and "The Usual Suspects (1995)" in out
    assert "User 1 has rated 6 films" in out and "An anonymous session" in out and "1/10" in out
    assert err == ""


def test_cli_demo_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "movielens", "--host", "http://127.0.0.1:9"])
    assert exit_info.value.code == 2 and "--email and --password" in capsys.readouterr().err
    assert main(["demo", "movielens", "--data", "/nonexistent/folder", "--no-progress"]) == 1
    assert "does not hold movies.csv" in capsys.readouterr().err


def test_parsing_follows_the_walkthrough(tmp_path: Path) -> None:
    ml = load(_tiny_movielens(tmp_path / "tiny"))
    assert ml.n_movies == 10 and ml.items_no_year["item_id"].tolist() == [6]
    assert dict(ml.items.tolist())[50] == 1995
    assert ml.genre_lists[6] == [] and ml.genre_lists[50] == ["Crime", "Mystery", "Thriller"]
    tags = [(int(i), str(v)) for i, v in ml.tags.tolist()]
    assert tags == [(0, "twistending"), (8, "space")]
    assert ml.ratings["rating"].min() == 2.0 and ml.ratings["rating"].max() == 9.0


@pytest.fixture
def zip_server(tmp_path: Path) -> Iterator[str]:
    """GroupLens stand-in: a local http.server serving the original archive."""
    if not ZIP.exists():
        pytest.skip(f"{ZIP} not found")
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(ZIP, root / ZIP.name)
    (root / "corrupt.zip").write_bytes(ZIP.read_bytes()[:-10] + b"0123456789")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def test_download_checks_and_extracts(zip_server: str, tmp_path: Path) -> None:
    assert hashlib.sha256(ZIP.read_bytes()).hexdigest() == ZIP_SHA256
    cache = tmp_path / "cache"
    folder = download(f"{zip_server}/{ZIP.name}", cache, progress=False)
    assert folder == cache / NAME and is_dataset(folder)
    for name in ("movies.csv", "ratings.csv", "tags.csv"):
        assert (folder / name).read_bytes() == (ML_SMALL / name).read_bytes()
    assert not list(cache.glob("*.part"))
    assert download("http://127.0.0.1:9/unused.zip", cache) == folder  # cached: no second download


def test_download_refuses_a_corrupt_archive(zip_server: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="SHA-256"):
        download(f"{zip_server}/corrupt.zip", tmp_path / "cache", progress=False)
    assert not is_dataset(tmp_path / "cache" / NAME)
    with pytest.raises(DatasetError, match="cannot download"):
        download(f"{zip_server}/missing.zip", tmp_path / "cache", progress=False)


def test_locate_downloads_when_nothing_is_local(
    zip_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOAPI_CACHE_DIR", str(tmp_path / "cache"))
    folder = locate(
        None, url=f"{zip_server}/{ZIP.name}", progress=False, search=[tmp_path / "nothing"]
    )
    assert folder == tmp_path / "cache" / NAME and is_dataset(folder)
    assert (
        locate(ZIP) == tmp_path / "cache" / NAME
    )  # a zip given with --data is extracted there too
