"""PostgreSQL storage of catalog and feedback: entities, ratings, interactions, sessions.

Bulk writes go through ``COPY`` into a temporary staging table and one
``INSERT ... SELECT ... ON CONFLICT`` (or ``UPDATE ... FROM``): one round trip per step
instead of one per row. Ratings, all fixed-width numbers, are copied in the binary format
built by numpy without a Python loop, and read back the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import psycopg

from recoapi.core.vocab import Vocab
from recoapi.errors import StoreError
from recoapi.store.base import InteractionsArrays, RatingsArrays, dumps

# Temporary tables, one per connection, emptied at every commit.
STAGES = {
    "stage_ratings": "user_idx BIGINT, item_idx BIGINT, rating DOUBLE PRECISION,"
    " ts DOUBLE PRECISION",
    "stage_props": "idx BIGINT, props JSON",
    "stage_events": "ord BIGINT, subject_key BYTEA, item_idx BIGINT, type TEXT,"
    " ts DOUBLE PRECISION, props JSON",
}
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
COPY_TRAILER = b"\xff\xff"
RATING_FIELDS = (("user", ">i8"), ("item", ">i8"), ("rating", ">f8"), ("ts", ">f8"))
RATING_ROW = np.dtype(  # one binary COPY row: field count, then (length, value) per column
    [("fields", ">i2")]
    + [part for name, kind in RATING_FIELDS for part in ((f"{name}_len", ">i4"), (name, kind))]
)


class DataMixin:
    _vocabs: dict[tuple[int, str], Vocab]
    _write_lock: Any
    _tx: Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
    _query: Callable[..., list[Any]]
    _copy_out: Callable[[str, Any], bytes]
    _cached: Callable[[tuple[Any, ...], Callable[[], Any]], Any]
    _forget: Callable[..., None]

    # --- properties --------------------------------------------------------------------

    def create_property(
        self, dbn: int, entity: str, name: str, value_type: str, repeated: bool, indexed: bool
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO properties VALUES (%s, %s, %s, %s, %s, %s)",
                (dbn, entity, name, value_type, bool(repeated), bool(indexed)),
            )
        self._forget(("properties", dbn, entity))

    def list_properties(self, dbn: int, entity: str) -> list[tuple[str, str, bool, bool]]:
        """Declarations, cached: every recommendation reads them (this process is the only
        writer, and each write below drops the cached copy)."""
        rows = self._cached(
            ("properties", dbn, entity),
            lambda: [
                tuple(row)
                for row in self._query(
                    "SELECT name, value_type, repeated, indexed FROM properties"
                    " WHERE dbn = %s AND entity = %s ORDER BY name",
                    (dbn, entity),
                )
            ],
        )
        return list(rows)

    def delete_property(self, dbn: int, entity: str, name: str) -> None:
        """Drop the declaration and the values every entity holds for it."""
        with self._tx() as c:
            c.execute(
                "DELETE FROM properties WHERE dbn = %s AND entity = %s AND name = %s",
                (dbn, entity, name),
            )
            holders = c.execute(
                "SELECT idx, props FROM entities WHERE dbn = %s AND entity = %s"
                " AND props IS NOT NULL AND strpos(props::text, %s) > 0",
                (dbn, entity, dumps(name)),
            ).fetchall()
            changed = [
                (idx, {k: v for k, v in props.items() if k != name})
                for idx, props in holders
                if isinstance(props, dict) and name in props
            ]
            _set_props(c, dbn, entity, changed)
        self._forget(("properties", dbn, entity))

    # --- vocabularies ----------------------------------------------------------------------

    def vocab(self, dbn: int, entity: str) -> Vocab:
        vocab = self._vocabs.get((dbn, entity))
        if vocab is None:
            with self._write_lock:  # no write commits between the read and the caching
                vocab = self._vocabs.get((dbn, entity))
                if vocab is None:
                    rows = self._query(
                        "SELECT key FROM entities WHERE dbn = %s AND entity = %s ORDER BY idx",
                        (dbn, entity),
                    )
                    vocab = Vocab(decode_key(row[0]) for row in rows)
                    self._vocabs[(dbn, entity)] = vocab
        return vocab

    def _add_keys(self, c: psycopg.Connection[Any], dbn: int, entity: str, keys: Any) -> np.ndarray:
        """Indices of ``keys``, creating unknown ones (inside the caller's transaction)."""
        vocab = self.vocab(dbn, entity)
        start = len(vocab)
        vocab.add(_plain_keys(keys))
        if len(vocab) > start:
            _lock_database(c, dbn)
            with c.cursor().copy("COPY entities (dbn, entity, idx, key) FROM STDIN") as copy:
                for i in range(start, len(vocab)):
                    copy.write_row((dbn, entity, i, encode_key(vocab.keys[i])))
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
        otherwise the given ones are merged into what is stored (JSON merge patch, row
        after row, as SQLite's ``json_patch``)."""
        with self._tx() as c:
            indices = self._add_keys(c, dbn, entity, keys)
            rows = list(zip(indices.tolist(), props, strict=True))
            final: dict[int, Any] = {}
            if replace:
                final.update(rows)
            else:
                stored = _props_of(c, dbn, entity, [i for i, _ in rows])
                for index, patch in rows:
                    final[index] = merge_patch(final.get(index, stored.get(index)), patch)
            _set_props(c, dbn, entity, list(final.items()))
        return indices

    def get_entities(self, dbn: int, entity: str, indices: np.ndarray) -> dict[int, dict[str, Any]]:
        wanted = [int(i) for i in indices if i >= 0]
        if not wanted:
            return {}
        rows = self._query(
            "SELECT idx, props FROM entities WHERE dbn = %s AND entity = %s"
            " AND idx = ANY(%s) AND props IS NOT NULL",
            (dbn, entity, wanted),
        )
        return dict(rows)

    def page_entities(
        self, dbn: int, entity: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        rows = self._query(
            "SELECT idx, props FROM entities WHERE dbn = %s AND entity = %s AND idx > %s"
            " AND props IS NOT NULL ORDER BY idx LIMIT %s",
            (dbn, entity, after, limit),
        )
        return [tuple(row) for row in rows]

    def all_entity_props(self, dbn: int, entity: str) -> dict[int, dict[str, Any]]:
        rows = self._query(
            "SELECT idx, props FROM entities WHERE dbn = %s AND entity = %s"
            " AND props IS NOT NULL ORDER BY idx",
            (dbn, entity),
        )
        return dict(rows)

    def clear_entities(
        self, dbn: int, entity: str, indices: np.ndarray, *, everything: bool = False
    ) -> None:
        """Remove the properties of entities; ``everything`` also removes a user's feedback."""
        wanted = [int(i) for i in indices if i >= 0]
        with self._tx() as c:
            c.execute(
                "UPDATE entities SET props = NULL WHERE dbn = %s AND entity = %s AND idx = ANY(%s)",
                (dbn, entity, wanted),
            )
            if everything and entity == "user":
                c.execute(
                    "DELETE FROM ratings WHERE dbn = %s AND user_idx = ANY(%s)", (dbn, wanted)
                )
                c.execute(
                    "DELETE FROM interactions WHERE dbn = %s AND subject = 'user'"
                    " AND subject_key = ANY(%s)",
                    (dbn, [encode_key(i) for i in wanted]),
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
        same transaction. Returns the ratings with dense indices. Within one call the last
        rating of a (user, item) pair wins."""
        with self._tx() as c:
            arrays = RatingsArrays(
                self._add_keys(c, dbn, "user", users),
                self._add_keys(c, dbn, "item", items),
                ratings.astype(np.float32),
                timestamps.astype(np.float64),
            )
            payload = _rating_rows(arrays)
            if len(payload):
                _lock_database(c, dbn)
                _stage(c, "stage_ratings", COPY_HEADER + payload.tobytes() + COPY_TRAILER)
                c.execute(  # an unchanged row is not rewritten: a retried chunk costs little
                    "INSERT INTO ratings AS r (dbn, user_idx, item_idx, rating, ts)"
                    " SELECT %s, user_idx, item_idx, rating, ts FROM stage_ratings"
                    " ON CONFLICT (dbn, user_idx, item_idx)"
                    " DO UPDATE SET rating = excluded.rating, ts = excluded.ts"
                    " WHERE (r.rating, r.ts) IS DISTINCT FROM (excluded.rating, excluded.ts)",
                    (dbn,),
                )
        return arrays

    def delete_rating(self, dbn: int, user: int, item: int) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM ratings WHERE dbn = %s AND user_idx = %s AND item_idx = %s",
                (dbn, user, item),
            )
            return cur.rowcount > 0

    def delete_user_ratings(self, dbn: int, user: int) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM ratings WHERE dbn = %s AND user_idx = %s", (dbn, user))

    def _ratings(self, query: str, args: tuple[Any, ...]) -> RatingsArrays:
        """Rows of ``query`` (user, item, rating, ts) through a binary ``COPY``."""
        data = self._copy_out(f"COPY ({query}) TO STDOUT (FORMAT BINARY)", args)
        start = 19 + int.from_bytes(data[15:19], "big")  # after the header extension
        rows = np.frombuffer(
            data, RATING_ROW, (len(data) - start - 2) // RATING_ROW.itemsize, start
        )
        return RatingsArrays(
            rows["user"].astype(np.int64),
            rows["item"].astype(np.int64),
            rows["rating"].astype(np.float32),
            rows["ts"].astype(np.float64),
        )

    def user_ratings(self, dbn: int, user: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = %s AND user_idx = %s"
            " ORDER BY item_idx",
            (dbn, user),
        )

    def page_ratings(self, dbn: int, after: tuple[int, int], limit: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = %s"
            " AND (user_idx, item_idx) > (%s, %s) ORDER BY user_idx, item_idx LIMIT %s",
            (dbn, after[0], after[1], limit),
        )

    def all_ratings(self, dbn: int) -> RatingsArrays:
        return self._ratings(
            "SELECT user_idx, item_idx, rating, ts FROM ratings WHERE dbn = %s"
            " ORDER BY user_idx, item_idx",
            (dbn,),
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
            staged = zip(
                range(len(events)),
                map(encode_key, _as_list(subjects)),
                items.tolist(),
                _as_list(rows.type),
                rows.timestamp.astype(np.float64).tolist(),
                props,
                strict=True,
            )
            if len(events):
                _lock_database(c, dbn)
                _stage(c, "stage_events", staged)
                c.execute(
                    "INSERT INTO interactions"
                    " (dbn, subject, subject_key, item_idx, type, ts, props)"
                    " SELECT %s, %s, subject_key, item_idx, type, ts, props FROM stage_events"
                    " ORDER BY ord ON CONFLICT (dbn, subject, subject_key, item_idx, type, ts)"
                    " DO NOTHING",
                    (dbn, subject),
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
        where, args = ["dbn = %s", "subject = %s", "seq > %s"], [dbn, subject, after]
        if subject_key is not None:
            where.append("subject_key = %s")
            args.append(encode_key(subject_key))
        if start is not None:
            where.append("ts >= %s")
            args.append(start)
        if end is not None:
            where.append("ts < %s")
            args.append(end)
        if types:
            where.append("type = ANY(%s)")
            args.append(list(types))
        query = (
            "SELECT seq, subject_key, item_idx, type, ts, props FROM interactions WHERE "
            + " AND ".join(where)
            + " ORDER BY seq LIMIT %s"
        )
        return _interactions(self._query(query, (*args, limit)))

    def all_interactions(self, dbn: int, subject: str) -> InteractionsArrays:
        return _interactions(
            self._query(
                "SELECT seq, subject_key, item_idx, type, ts, props FROM interactions"
                " WHERE dbn = %s AND subject = %s ORDER BY seq",
                (dbn, subject),
            )
        )

    def resolve_session(self, dbn: int, session_key: Any, user: int, ts: float) -> bool:
        """Bind a session to a user; returns False when it was already bound."""
        key = encode_key(session_key)
        with self._tx() as c:
            old = c.execute(
                "SELECT user_idx FROM resolved_sessions WHERE dbn = %s AND session_key = %s",
                (dbn, key),
            ).fetchone()
            c.execute(
                "INSERT INTO resolved_sessions VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (dbn, session_key)"
                " DO UPDATE SET user_idx = excluded.user_idx, ts = excluded.ts",
                (dbn, key, user, ts),
            )
        return old is None

    def page_resolved_sessions(
        self, dbn: int, users: np.ndarray | None, after: int, limit: int
    ) -> list[tuple[Any, int, float]]:
        """Rows ``(position, session_key, user, ts)`` after the first ``after`` ones; the
        1-based position in session-key order is the cursor (as in the SQLite store)."""
        query = "SELECT session_key, user_idx, ts FROM resolved_sessions WHERE dbn = %s"
        args: list[Any] = [dbn]
        if users is not None:
            query += " AND user_idx = ANY(%s)"
            args.append([int(u) for u in users])
        found = self._query(
            query + " ORDER BY session_key LIMIT %s OFFSET %s", (*args, limit, after)
        )
        return [
            (after + n + 1, decode_key(key), user, ts) for n, (key, user, ts) in enumerate(found)
        ]


# --- ids -----------------------------------------------------------------------------------------

_INT, _TEXT, _BYTES = b"\x01", b"\x02", b"\x03"


def encode_key(value: Any) -> bytes:
    """A storage key (int, str or bytes) as tagged ``bytea``: one column holds every id
    type, and byte order sorts ints numerically (offset binary), then text, then bytes."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return _INT + (value + 2**63).to_bytes(8, "big")
    if isinstance(value, str):
        return _TEXT + value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _BYTES + bytes(value)
    raise TypeError(f"cannot store a key of type {type(value).__name__}")


def decode_key(data: bytes) -> Any:
    tag, body = data[:1], bytes(data[1:])
    if tag == _INT:
        return int.from_bytes(body, "big") - 2**63
    if tag == _TEXT:
        return body.decode()
    return body


# --- helpers -------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch, what SQLite's ``json_patch`` computes."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _lock_database(c: psycopg.Connection[Any], dbn: int) -> None:
    """What a foreign key on entities, ratings and interactions would check, once per write
    rather than once per row: the database exists, and cannot be deleted until this commit."""
    found = c.execute("SELECT 1 FROM databases WHERE n = %s FOR KEY SHARE", (dbn,)).fetchone()
    if found is None:
        raise StoreError(f"database {dbn} does not exist (deleted meanwhile?)")


def _stage(c: psycopg.Connection[Any], table: str, data: bytes | Iterable[tuple[Any, ...]]) -> None:
    """Fill a staging table: binary ``COPY`` bytes, or rows in the text format."""
    c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({STAGES[table]}) ON COMMIT DELETE ROWS")
    binary = isinstance(data, bytes)
    with c.cursor().copy(
        f"COPY {table} FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
    ) as copy:
        if isinstance(data, bytes):
            copy.write(data)
        else:
            for row in data:
                copy.write_row(row)


def _props_of(
    c: psycopg.Connection[Any], dbn: int, entity: str, indices: list[int]
) -> dict[int, Any]:
    rows = c.execute(
        "SELECT idx, props FROM entities WHERE dbn = %s AND entity = %s AND idx = ANY(%s)",
        (dbn, entity, indices),
    ).fetchall()
    return dict(rows)


def _set_props(
    c: psycopg.Connection[Any], dbn: int, entity: str, rows: list[tuple[int, Any]]
) -> None:
    """Store the property documents of existing entities (one ``UPDATE ... FROM``)."""
    if not rows:
        return
    _stage(c, "stage_props", ((index, dumps(props)) for index, props in rows))
    c.execute(
        "UPDATE entities e SET props = s.props FROM stage_props s"
        " WHERE e.dbn = %s AND e.entity = %s AND e.idx = s.idx",
        (dbn, entity),
    )


def _rating_rows(arrays: RatingsArrays) -> np.ndarray:
    """Binary ``COPY`` rows of the ratings, the last one of each (user, item) pair only
    (``ON CONFLICT DO UPDATE`` may touch a row once per statement)."""
    users, items = arrays.user, arrays.item
    if not len(users) == len(items) == len(arrays.rating) == len(arrays.timestamp):
        raise ValueError("ratings columns differ in length")
    pairs = users * (int(items.max(initial=0)) + 1) + items
    _, last_reversed = np.unique(pairs[::-1], return_index=True)
    keep = len(pairs) - 1 - last_reversed
    rows = np.empty(len(keep), RATING_ROW)
    rows["fields"] = 4
    for name, column in (
        ("user", users),
        ("item", items),
        ("rating", arrays.rating.astype(np.float64)),
        ("ts", arrays.timestamp),
    ):
        rows[f"{name}_len"] = 8
        rows[name] = column[keep]
    return rows


def _interactions(rows: list[Any]) -> InteractionsArrays:
    subject = np.empty(len(rows), object)
    subject[:] = [decode_key(row[1]) for row in rows]
    types = np.empty(len(rows), object)
    types[:] = [row[3] for row in rows]
    return InteractionsArrays(
        subject,
        np.array([row[2] for row in rows], np.int64),
        types,
        np.array([row[4] for row in rows], np.float64),
        [row[5] for row in rows],
        np.array([row[0] for row in rows], np.int64),
    )


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _plain_keys(keys: Any) -> list[Any]:
    """Storage keys as plain Python values (ints, str, bytes), without duplicates."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
        return list(dict.fromkeys(keys.tolist()))
    return list(dict.fromkeys(k.item() if isinstance(k, np.generic) else k for k in keys))
