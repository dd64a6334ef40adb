"""Progress bars for uploads and waits: on stderr by default, silent with ``progress=False``."""

from __future__ import annotations

import pytest
from clientkit import block_ratings, connect

from server import ServerProcess


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bars_can_be_switched_off(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], progress: bool
) -> None:
    client = connect(server.url, "pkl", progress=progress)
    capsys.readouterr()
    client.create_or_update_ratings_bulk(block_ratings(), chunk_size=100)
    client.wait_until_ready(timeout=120, sleep=0.2)
    out, err = capsys.readouterr()
    assert out == ""
    if progress:
        assert "uploading ratings" in err and "400/400" in err and "model ready" in err
    else:
        assert err == ""


def test_single_chunk_uploads_show_no_bar(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    client = connect(server.url, progress=True)
    capsys.readouterr()
    client.create_or_update_ratings_bulk(block_ratings(n_users=2, n_items=4))
    assert capsys.readouterr().err == ""
