"""``recoapi demo movielens``: the MovieLens walkthrough, end to end, with our client.

It creates a database, declares ``year``, ``genres`` and ``tags``, uploads ml-latest-small,
waits for the model and prints recommendations with titles: films similar to The Usual
Suspects, a light user's ratings and recommendations, an anonymous session's
recommendations, and the user's list again after they dislike their first recommendation.
Without ``host`` it runs against an embedded server it starts itself.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from recoapi.client import RecoClient
from recoapi.demo.data import GROUPLENS_URL, MovieLens, load, locate
from recoapi.demo.tables import clip, display_title, table

USUAL_SUSPECTS = 50
SESSION = {1196: 10.0, 1210: 10.0, 780: 8.0, 1373: 7.0, 1924: 1.0}
AMT = 8
LIGHT_USER_MAX = 30
RETRAIN_TASK = "ml_model_retrain"
PROPERTIES = (("year", "int16", False), ("genres", "unicode18", True), ("tags", "unicode20", True))


@dataclass(frozen=True)
class DemoOptions:
    """What ``recoapi demo movielens`` was asked to do."""

    data: Path | None = None
    host: str | None = None
    email: str | None = None
    password: str | None = None
    progress: bool = True
    url: str = GROUPLENS_URL
    serializer: str = "pkl"


@dataclass
class DemoReport:
    """What the walkthrough printed, for callers and tests."""

    database_id: str = ""
    similar: list[int] = field(default_factory=list)
    user_id: int = 0
    user_ratings: list[tuple[int, float]] = field(default_factory=list)
    user_recos: list[int] = field(default_factory=list)
    session_recos: list[int] = field(default_factory=list)
    disliked: int = 0
    user_recos_after: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def run(options: DemoOptions, out: TextIO | None = None) -> DemoReport:
    """Find the data, connect (or start an embedded server) and run the walkthrough."""
    out = out or sys.stdout
    started = time.perf_counter()
    folder = locate(options.data, url=options.url, progress=options.progress)
    movielens = load(folder)
    with _server(options) as (url, email, password, label):
        _print_header(out, folder, movielens, url, label)
        with RecoClient(url, serializer=options.serializer, progress=options.progress) as client:
            report = Walkthrough(client, movielens, out).run(email, password)
        if options.host:
            _say(
                out, f"\nThe database (id {report.database_id}) stays on {url} for you to explore."
            )
    report.timings["total"] = time.perf_counter() - started
    _say(out, f"\nDone in {report.timings['total']:.1f} s.")
    return report


@contextmanager
def _server(options: DemoOptions) -> Iterator[tuple[str, str, str, str]]:
    if options.host:
        if not (options.email and options.password):
            raise ValueError(
                "--host needs --email and --password (an account that may create databases)"
            )
        yield options.host, options.email, options.password, "given with --host"
        return
    from recoapi.demo.embedded import EmbeddedServer

    # Train once, when the upload pauses: quicker than also training on the first chunks.
    with EmbeddedServer(train_debounce=0.5, train_min_new_events=10**9) as server:
        yield server.url, server.email, server.password, "embedded, temporary data"


class Walkthrough:
    """The calls of the walkthrough, and their printout."""

    def __init__(self, client: RecoClient, movielens: MovieLens, out: TextIO) -> None:
        self.client, self.ml, self.out = client, movielens, out
        self.report = DemoReport()

    def run(self, email: str, password: str) -> DemoReport:
        self.setup(email, password)
        self.upload()
        self.wait()
        self.similar_films()
        self.light_user()
        self.anonymous_session()
        self.after_dislike()
        return self.report

    # --- the calls ------------------------------------------------------------------------------

    def setup(self, email: str, password: str) -> None:
        client = self.client
        client.login_individual(email, password)
        name = f"movielens-{uuid.uuid4().hex[:8]}"
        db = client.create_database(
            name, "MovieLens ml-latest-small (recoapi demo)", "uint32", "uint32"
        )
        client.login_individual(email, password, db_id=db["id"])
        for prop, value_type, repeated in PROPERTIES:
            client.create_item_property(prop, value_type, repeated=repeated)
        self.report.database_id = str(db["id"])
        self._step(f"database {name} created; properties year, genres and tags declared")

    def upload(self) -> None:
        ml, client = self.ml, self.client
        with self._timed("movies"):
            client.create_or_update_items_bulk(ml.items, ml.m2m_for(0, len(ml.items)))
            if len(ml.items_no_year):
                client.create_or_update_items_bulk(
                    ml.items_no_year, ml.m2m_for(len(ml.items), len(ml.items_no_year))
                )
        self._step(
            f"uploaded {ml.n_movies:,} movies ({len(ml.genres):,} genres, {len(ml.tags):,} tags) "
            f"in {self.report.timings['movies']:.1f} s"
        )
        with self._timed("ratings"):
            client.create_or_update_ratings_bulk(ml.ratings)
        self._step(
            f"uploaded {len(ml.ratings):,} ratings in {self.report.timings['ratings']:.1f} s"
        )

    def wait(self) -> None:
        with self._timed("model"):
            self.client.wait_until_ready(timeout=600, sleep=0.5)
            self._finish_training()
        self._step(f"model ready after {self.report.timings['model']:.1f} s")

    def _finish_training(self) -> None:
        """A server may train a first model while ratings still arrive (recoapi does after
        50,000 new events); wait for the run that covers all of them, if one is going on."""
        tasks = self.client.get_background_tasks(RETRAIN_TASK)["tasks"]
        running = [t["task_id"] for t in tasks if t["status"] == "RUNNING"]
        if running:
            self.client.wait_for_background_task(
                RETRAIN_TASK,
                timeout=600,
                sleep=0.5,
                msg="finishing training",
                filtr=lambda t: t["task_id"] == running[0],
            )

    def similar_films(self) -> None:
        ids = self._ids(self.client.get_reco_item_to_items(USUAL_SUSPECTS, amt=AMT))
        self.report.similar = ids
        self._movies(
            f"The {AMT} films most similar to {display_title(self.ml.titles[USUAL_SUSPECTS])}", ids
        )

    def light_user(self) -> None:
        user = pick_light_user(self.ml.ratings)
        rated = self.client.list_all_user_ratings(user)
        rated = rated[np.lexsort((rated["item_id"], -rated["rating"]))]
        self.report.user_id = user
        self.report.user_ratings = [
            (int(i), float(r)) for i, r in zip(rated["item_id"], rated["rating"], strict=True)
        ]
        rows = [
            (
                f"{r:g}/10",
                int(i),
                display_title(self.ml.titles.get(int(i), "?")),
                self._genres(int(i)),
            )
            for i, r in zip(rated["item_id"], rated["rating"], strict=True)
        ]
        self._say(
            f"\nUser {user} has rated {len(rated)} films (the first user with fewer than "
            f"{LIGHT_USER_MAX}):"
        )
        self._say(table(("rating", "movieId", "title", "genres"), rows, right=(0, 1)))
        self.report.user_recos = self._ids(self.client.get_reco_user_to_items(user, amt=AMT))
        self._movies(f"The {AMT} recommendations for user {user}", self.report.user_recos)

    def anonymous_session(self) -> None:
        ids = self._ids(self.client.get_reco_session_to_items(SESSION, amt=AMT))
        self.report.session_recos = ids
        rows = [(f"{r:g}/10", i, display_title(self.ml.titles[i])) for i, r in SESSION.items()]
        self._say("\nAn anonymous session (nothing stored) rates:")
        self._say(table(("rating", "movieId", "title"), rows, right=(0, 1)))
        self._movies(f"The {AMT} recommendations for this session", ids)

    def after_dislike(self) -> None:
        user, disliked = self.report.user_id, self.report.user_recos[0]
        self.client.create_or_update_rating(user, disliked, 1.0)
        self.report.disliked = disliked
        after = self._ids(self.client.get_reco_user_to_items(user, amt=AMT))
        self.report.user_recos_after = after
        before = set(self.report.user_recos)
        self._movies(
            f"User {user} rates {display_title(self.ml.titles[disliked])} 1/10; "
            f"their {AMT} recommendations now (* = new)",
            after,
            marks=before,
        )

    # --- output ---------------------------------------------------------------------------------

    def _movies(self, heading: str, ids: list[int], marks: set[int] | None = None) -> None:
        rows = [
            (
                f"{n}{'' if marks is None or i in marks else '*'}",
                i,
                display_title(self.ml.titles.get(i, "?")),
                self._genres(i),
            )
            for n, i in enumerate(ids, 1)
        ]
        self._say(f"\n{heading}:")
        self._say(table(("#", "movieId", "title", "genres"), rows, right=(0, 1)))

    def _genres(self, item: int) -> str:
        return clip(", ".join(self.ml.genre_lists.get(item, [])), 40)

    def _step(self, text: str) -> None:
        self._say(f"- {text}")

    def _say(self, text: str) -> None:
        _say(self.out, text)

    @staticmethod
    def _ids(answer: dict[str, object]) -> list[int]:
        return [int(i) for i in np.asarray(answer["items_id"]).tolist()]

    @contextmanager
    def _timed(self, key: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.report.timings[key] = time.perf_counter() - start


def pick_light_user(ratings: np.ndarray, limit: int = LIGHT_USER_MAX) -> int:
    """The smallest user id with fewer than ``limit`` ratings (deterministic)."""
    users, counts = np.unique(ratings["user_id"], return_counts=True)
    light = users[counts < limit]
    if not len(light):
        raise ValueError(f"no user has fewer than {limit} ratings")
    return int(light[0])


def _print_header(out: TextIO, folder: Path, ml: MovieLens, url: str, label: str) -> None:
    n_users = len(np.unique(ml.ratings["user_id"]))
    title = "MovieLens walkthrough on recoapi"
    _say(out, f"{title}\n{'=' * len(title)}")
    _say(
        out,
        f"data:   {folder} ({ml.n_movies:,} movies, {len(ml.ratings):,} ratings by {n_users:,} "
        "users, "
        f"{ml.n_raw_tags:,} tags)",
    )
    _say(out, f"server: {url} ({label})\n")


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)
