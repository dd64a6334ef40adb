"""SQLite storage of catalog and feedback: entities, ratings, interactions, sessions.

Bulk writes hand whole columns to ``executemany`` (``ndarray.tolist`` builds the rows in C)
inside one transaction; reads come back as numpy arrays.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from recoapi.core.vocab import Vocab
from recoapi.store.base import InteractionsArrays, RatingsArrays, dumps


class DataMixin:
    _vocabs: dict[tuple[int, str], Vocab]
    _cache: dict[tuple[Any, ...], Any]
    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _query: Callable[..., list[Any]]

    # --- properties --------------------------------------------------------------------

    def create_property(
        self, dbn: int, entity: str, name: str, value_type: str, repeated: bool, indexed: bool
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO properties VALUES (?,?,?,?,?,?)",
                (dbn, entity, name, value_type, int(repeated), int(indexed)),
            )
        self._cache.pop(("properties", dbn, entity), None)

    def list_properties(self, dbn: int, entity: str) -> list[tuple[str, str, bool, bool]]:
        """Declarations, cached: every recommendation reads them (this process is the only
        writer, and each write below drops the cached copy)."""
        key = ("properties", dbn, entity)
        if key not in self._cache:
            rows = self._query(
                "SELECT name, value_type, repeated, indexed FROM properties"
                " WHERE dbn = ? AND entity = ? ORDER BY name",
                (dbn, entity),
            )
            self._cache[key] = [(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]
        return list(self._cache[key])

    def delete_property(self, dbn: int, entity: str, name: str) -> None:
        """Drop the declaration and the values every entity holds for it."""
        with self._tx() as c:
            c.execute(
                "DELETE FROM properties WHERE dbn = ? AND entity = ? AND name = ?",
                (dbn, entity, name),
            )
            c.execute(
                "UPDATE entities SET props = json_remove(props, ?)"
                " WHERE dbn = ? AND entity = ? AND props IS NOT NULL",
                (f'$."{name}"', dbn, entity),
            )
        self._cache.pop(("properties", dbn, entity), None)

    # --- vocabularies ----------------------------------------------------------------------

    def vocab(self, dbn: int, entity: str) -> Vocab:
        vocab = self._vocabs.get((dbn, entity))
        if vocab is None:
            rows = self._query(
                "SELECT key FROM entities WHERE dbn = ? AND entity = ? ORDER BY idx", (dbn, entity)
            )
            vocab = Vocab(row[0] for row in rows)
            self._vocabs[(dbn, entity)] = vocab
        return vocab

    def _add_keys(self, c: sqlite3.Connection, dbn: int, entity: str, keys: Any) -> np.ndarray:
        """Indices of ``keys``, creating unknown ones (inside the caller's transaction)."""
        vocab = self.vocab(dbn, entity)
        start = len(vocab)
        vocab.add(_plain_keys(keys))
        if len(vocab) > start:
            c.executemany(
                "INSERT INTO entities (dbn, entity, idx, key) VALUES (?,?,?,?)",
                ((dbn, entity, i, vocab.keys[i]) for i in range(start, len(vocab))),
            )
        return vocab.lookup(keys)

    def ensure_indices(self, dbn: int, entity: str, keys: np.ndarray) -> np.ndarray:
        vocab = self.vocab(dbn, entity)
        found = vocab.lookup(keys)
        if (found >= 0).all():
            return found
        with self._tx() as c:
            return self._add_keys(c, dbn, entity, keys)

    # --- entities ----------------------------------------------------------------------------

    def write_entities(
        self, dbn: int, entity: str, keys: list[Any], props: list[dict[str, Any]], *, replace: bool
    ) -> np.ndarray:
        """Create or update entities. ``replace`` drops properties that are not given;
        otherwise the given ones are merged into what is stored."""
        with self._tx() as c:
            indices = self._add_keys(c, dbn, entity, keys)
            if replace:
                rows = [
                    (dumps(p), dbn, entity, int(i)) for i, p in zip(indices, props, strict=True)
                ]
                c.executemany(
                    "UPDATE entities SET props = ? WHERE dbn = ? AND entity = ? AND idx = ?", rows
                )
            else:
                rows = [
                    (dumps(p), dbn, entity, int(i)) for i, p in zip(indices, props, strict=True)
                ]
                c.executemany(
                    "UPDATE entities SET props = json_patch(coalesce(props, '{}'), ?)"
                    " WHERE dbn = ? AND entity = ? AND idx = ?",
                    rows,
                )
        return indices

    def get_entities(self, dbn: int, entity: str, indices: np.ndarray) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        wanted = [int(i) for i in indices if i >= 0]
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT idx, props FROM entities WHERE dbn = ? AND entity = ? AND idx IN ({marks})"
                " AND props IS NOT NULL",
                (dbn, entity, *chunk),
            )
            found.update((row[0], json.loads(row[1])) for row in rows)
        return found

    def page_entities(
        self, dbn: int, entity: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        rows = self._query(
            "SELECT idx, props FROM entities WHERE dbn = ? AND entity = ? AND idx > ?"
            " AND props IS NOT NULL ORDER BY idx LIMIT ?",
            (dbn, entity, after, limit),
        )
        return [(row[0], json.loads(row[1])) for row in rows]

    def all_entity_props(self, dbn: int, entity: str) -> dict[int, dict[str, Any]]:
        rows = self._query(
            "SELECT idx, props FROM entities WHERE dbn = ? AND entity = ? AND props IS NOT NULL",
            (dbn, entity),
        )
        return {row[0]: json.loads(row[1]) for row in rows}

    def clear_entities(
        self, dbn: int, entity: str, indices: np.ndarray, *, everything: bool = False
    ) -> None:
        """Remove the properties of entities; ``everything`` also removes a user's feedback."""
        rows = [(dbn, entity, int(i)) for i in indices if i >= 0]
        with self._tx() as c:
            c.executemany(
                "UPDATE entities SET props = NULL WHERE dbn = ? AND entity = ? AND idx = ?", rows
            )
            if everything and entity == "user":
                c.executemany(
                    "DELETE FROM ratings WHERE dbn = ? AND user_idx = ?",
                    [(r[0], r[2]) for r in rows],
                )
                c.executemany(
                    "DELETE FROM interactions"
                    " WHERE dbn = ? AND subject = 'user' AND subject_key = ?",
                    [(r[0], r[2]) for r in rows],
                )

    # --- ratings -------------------------------------------------------------------------------

    def upsert_ratings(
        self,
        dbn: int,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        timestamps: np.ndarray,
    ) -> RatingsArrays:
        """Upsert ratings given by storage keys; unknown users and items get indices in the
        same transaction. Returns the ratings with dense indices."""
        with self._tx() as c:
            arrays = RatingsArrays(
                self._add_keys(c, dbn, "user", users),
                self._add_keys(c, dbn, "item", items),
                ratings.astype(np.float32),
                timestamps.astype(np.float64),
            )
            c.executemany(
                "INSERT INTO ratings VALUES (?,?,?,?,?) ON CONFLICT (dbn, user_idx, item_idx)"
                " DO UPDATE SET rating = excluded.rating, ts = excluded.ts",
                zip(
                    _repeat(dbn, len(arrays)),
                    arrays.user.tolist(),
                    arrays.item.tolist(),
                    arrays.rating.astype(np.float64).tolist(),
                    arrays.timestamp.tolist(),
                    strict=True,
                ),
            )
        return arrays

    def delete_rating(self, dbn: int, user: int, item: int) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM ratings WHERE dbn = ? AND user_idx = ? AND item_idx = ?",
                (dbn, user, item),
            )
            return cur.rowcount > 0

    def delete_user_ratings(self, dbn: int, user: int) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM ratings WHERE dbn = ? AND user_idx = ?", (dbn, user))

    def _ratings(self, sql: str, args: tuple[Any, ...]) -> RatingsArrays:
        rows = self._query(sql, args)
        if not rows:
            return RatingsArrays(
                *(np.zeros(0, t) for t in (np.int64, np.int64, np.float32, np.float64))
            )
        cols = list(zip(*rows, strict=True))
        return RatingsArrays(
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.float32),
            np.array(cols[3], np.float64),
        )

    def user_ratings(self, dbn: int, user: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = ? AND user_idx = ?"
            " ORDER BY item_idx",
            (dbn, user),
        )

    def page_ratings(self, dbn: int, after: tuple[int, int], limit: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = ?"
            " AND (user_idx, item_idx) > (?, ?) ORDER BY user_idx, item_idx LIMIT ?",
            (dbn, after[0], after[1], limit),
        )

    def all_ratings(self, dbn: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = ?", (dbn,)
        )

    # --- interactions and sessions ---------------------------------------------------------------

    def insert_interactions(
        self, dbn: int, subject: str, rows: InteractionsArrays
    ) -> InteractionsArrays:
        """Insert events given by storage keys (items, and users for subject 'user'); unknown
        ids get indices in the same transaction. An identical event (same subject, item, type,
        time) is kept once, so a retried chunk changes nothing. Returns the events with indices."""
        with self._tx() as c:
            items = self._add_keys(c, dbn, "item", rows.item)
            subjects = (
                self._add_keys(c, dbn, "user", rows.subject) if subject == "user" else rows.subject
            )
            events = InteractionsArrays(
                subjects, items, rows.type, rows.timestamp, rows.properties, rows.seq
            )
            props = [None if p is None else dumps(p) for p in rows.properties]
            c.executemany(
                "INSERT OR IGNORE INTO interactions"
                " (dbn, subject, subject_key, item_idx, type, ts, props)"
                " VALUES (?,?,?,?,?,?,?)",
                zip(
                    _repeat(dbn, len(events)),
                    _repeat(subject, len(events)),
                    _as_list(subjects),
                    items.tolist(),
                    _as_list(rows.type),
                    rows.timestamp.astype(np.float64).tolist(),
                    props,
                    strict=True,
                ),
            )
        return events

    def page_interactions(
        self,
        dbn: int,
        subject: str,
        *,
        after: int,
        limit: int,
        subject_key: Any = None,
        start: float | None = None,
        end: float | None = None,
        types: list[str] | None = None,
    ) -> InteractionsArrays:
        where, args = ["dbn = ?", "subject = ?", "seq > ?"], [dbn, subject, after]
        if subject_key is not None:
            where.append("subject_key = ?")
            args.append(subject_key)
        if start is not None:
            where.append("ts >= ?")
            args.append(start)
        if end is not None:
            where.append("ts < ?")
            args.append(end)
        if types:
            where.append(f"type IN ({','.join('?' * len(types))})")
            args.extend(types)
        sql = (
            "SELECT seq, subject_key, item_idx, type, ts, props FROM interactions WHERE "
            + " AND ".join(where)
            + " ORDER BY seq LIMIT ?"
        )
        return _interactions(self._query(sql, (*args, limit)))

    def all_interactions(self, dbn: int, subject: str) -> InteractionsArrays:
        return _interactions(
            self._query(
                "SELECT seq, subject_key, item_idx, type, ts, props FROM interactions"
                " WHERE dbn = ? AND subject = ? ORDER BY seq",
                (dbn, subject),
            )
        )

    def resolve_session(self, dbn: int, session_key: Any, user: int, ts: float) -> bool:
        """Bind a session to a user; returns False when it was already bound."""
        with self._tx() as c:
            old = c.execute(
                "SELECT user_idx FROM resolved_sessions WHERE dbn = ? AND session_key = ?",
                (dbn, session_key),
            ).fetchone()
            c.execute(
                "INSERT INTO resolved_sessions VALUES (?,?,?,?) ON CONFLICT (dbn, session_key)"
                " DO UPDATE SET user_idx = excluded.user_idx, ts = excluded.ts",
                (dbn, session_key, user, ts),
            )
        return old is None

    def page_resolved_sessions(
        self, dbn: int, users: np.ndarray | None, after: int, limit: int
    ) -> list[tuple[Any, int, float]]:
        """Rows ``(position, session_key, user, ts)`` after the first ``after`` ones; the
        table has no rowid, so the 1-based position in session-key order is the cursor."""
        sql = "SELECT session_key, user_idx, ts FROM resolved_sessions WHERE dbn = ?"
        args: list[Any] = [dbn]
        if users is not None:
            sql += f" AND user_idx IN ({','.join('?' * len(users))})"
            args.extend(int(u) for u in users)
        found = self._query(sql + " ORDER BY session_key LIMIT ? OFFSET ?", (*args, limit, after))
        return [(after + n + 1, *row) for n, row in enumerate(found)]


def _interactions(rows: list[Any]) -> InteractionsArrays:
    if not rows:
        return InteractionsArrays(
            np.zeros(0, object),
            np.zeros(0, np.int64),
            np.zeros(0, object),
            np.zeros(0, np.float64),
            [],
            np.zeros(0, np.int64),
        )
    cols = list(zip(*rows, strict=True))
    subject = np.empty(len(rows), object)
    subject[:] = cols[1]
    types = np.empty(len(rows), object)
    types[:] = cols[3]
    return InteractionsArrays(
        subject,
        np.array(cols[2], np.int64),
        types,
        np.array(cols[4], np.float64),
        [None if p is None else json.loads(p) for p in cols[5]],
        np.array(cols[0], np.int64),
    )


def _repeat(value: Any, n: int) -> Iterator[Any]:
    for _ in range(n):
        yield value


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _plain_keys(keys: Any) -> list[Any]:
    """Storage keys as plain Python values (ints, str, bytes), without duplicates."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
        return list(dict.fromkeys(keys.tolist()))
    return list(dict.fromkeys(k.item() if isinstance(k, np.generic) else k for k in keys))


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
