//! The embedded store: the store port on one SQLite file. Several local processes (the
//! local server, `cargo lambda watch` functions) can share the file: writes take SQLite's
//! write lock up front (`BEGIN IMMEDIATE`) and conditions are checked inside that lock.
//!
//! Writes go through one connection on a blocking thread (a commit may sync the disk).
//! Reads use a pool of read-only connections and run where they are called: in WAL mode
//! a reader never waits for the writer, a point read takes microseconds, and handing it
//! to another thread cost more than the read itself (the profile of `GET /user/{id}`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::ports::store::{
    distinct_batch_keys, validate_item, validate_tx, Attr, Condition, CursorKey, IndexName, Item, Key, Page, Query,
    SortKey, Store, StoreError, TxOp, Update,
};
use crate::ports::Clock;

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections to the same file; none for an in-memory database.
    readers: Option<Readers>,
    clock: Arc<dyn Clock>,
}

struct Readers {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().map_err(|_| poisoned())?.pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        configure(&conn)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        // A connection left inside a transaction (its end failed) is closed, not reused.
        if !conn.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}

/// Settings of every connection, writer or reader.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
    // Without the planner stability guarantee SQLite compiles a cached query again each
    // time a new value is bound to a parameter it planned with (the `LIMIT`, the
    // partition): that re-compilation was most of a query's cost in the profile.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(backend)?;
    Ok(())
}

fn poisoned() -> StoreError {
    StoreError::Backend("store lock poisoned".into())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub use crate::config::Durability;

impl SqliteStore {
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::open_with(path, clock, Durability::Full)
    }

    pub fn open_with(path: &Path, clock: Arc<dyn Clock>, durability: Durability) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        let mut store = Self::init(conn, clock, durability)?;
        store.readers = Some(Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![]),
        });
        Ok(store)
    }

    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::init(
            Connection::open_in_memory().map_err(backend)?,
            clock,
            Durability::Normal,
        )
    }

    /// SQLite's `synchronous` setting of the connection (2 is FULL, 1 NORMAL).
    pub fn synchronous(&self) -> Result<i64, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).map_err(backend)
    }

    fn init(conn: Connection, clock: Arc<dyn Clock>, durability: Durability) -> Result<Self, StoreError> {
        configure(&conn)?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};"
        ))
        .map_err(backend)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS items (
                 pk TEXT NOT NULL,
                 sk TEXT NOT NULL,
                 ipk TEXT,
                 isk TEXT,
                 ttl INTEGER,
                 attrs TEXT NOT NULL,
                 PRIMARY KEY (pk, sk)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS items_inverted ON items (ipk, isk, pk, sk) WHERE ipk IS NOT NULL;",
        )
        .map_err(backend)?;
        // DynamoDB's TTL deletes expired items eventually; here, whenever a process opens
        // the file. Reads never depend on it: expired items read as absent either way.
        conn.execute(
            "DELETE FROM items WHERE ttl IS NOT NULL AND ttl <= ?1",
            params![clock.now_secs()],
        )
        .map_err(backend)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            readers: None,
            clock,
        })
    }

    /// A read, on a pooled read-only connection, right here (see the module header); on
    /// the writer's connection for an in-memory database.
    async fn read_only<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(readers) = &self.readers else {
            return self.run(f).await;
        };
        let mut conn = readers.take()?;
        let out = f(&mut conn, self.clock.now_secs());
        readers.give_back(conn);
        // A read that never awaits would let a polling loop starve the writer it waits
        // for; counting against tokio's cooperative budget yields now and then.
        tokio::task::consume_budget().await;
        out
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        let now = self.clock.now_secs();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
            f(&mut guard, now)
        })
        .await
        .map_err(backend)?
    }
}

/// The item a conditional write found under its key (absent, live or expired).
struct Stored {
    key: Key,
    item: Option<Item>,
}

impl SqliteStore {
    /// One single-item write: take the write lock, check the condition against the stored
    /// item, then let `write` act on it, all in one transaction.
    async fn conditional_write<T: Send + 'static>(
        &self,
        key: Key,
        condition: Option<Condition>,
        write: impl FnOnce(&rusqlite::Transaction<'_>, Stored) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let item = read(&tx, &key)?;
            if !check(&condition, item.as_ref(), now) {
                return Err(StoreError::ConditionFailed);
            }
            let out = write(&tx, Stored { key, item })?;
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
    }
}

const COLUMNS: &str = "pk, sk, ipk, isk, ttl, attrs";
const POINT_READ: &str = "SELECT pk, sk, ipk, isk, ttl, attrs FROM items WHERE pk = ?1 AND sk = ?2";

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Item, StoreError>> {
    let pk: String = row.get(0)?;
    let sk: String = row.get(1)?;
    let ipk: Option<String> = row.get(2)?;
    let isk: Option<String> = row.get(3)?;
    let ttl: Option<i64> = row.get(4)?;
    let attrs: String = row.get(5)?;
    Ok(serde_json::from_str::<BTreeMap<String, Attr>>(&attrs)
        .map_err(|e| StoreError::Backend(format!("corrupt item {pk}/{sk}: {e}")))
        .map(|attrs| Item {
            key: Key { pk, sk },
            index_key: ipk.zip(isk).map(|(pk, sk)| Key { pk, sk }),
            expires_at: ttl,
            attrs,
        }))
}

fn read(conn: &Connection, key: &Key) -> Result<Option<Item>, StoreError> {
    conn.prepare_cached(POINT_READ)
        .map_err(backend)?
        .query_row(params![key.pk, key.sk], row_to_item)
        .optional()
        .map_err(backend)?
        .transpose()
}

fn write(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let attrs = serde_json::to_string(&item.attrs).map_err(backend)?;
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, ipk, isk, ttl, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            item.key.pk,
            item.key.sk,
            item.index_key.as_ref().map(|k| &k.pk),
            item.index_key.as_ref().map(|k| &k.sk),
            item.expires_at,
            attrs
        ],
    )
    .map_err(backend)?;
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk])
        .map_err(backend)?;
    Ok(())
}

/// The statement of a query and its arguments.
fn query_sql(q: &Query, after: Option<&CursorKey>, now: i64) -> (String, Vec<rusqlite::types::Value>) {
    let (pcol, scol) = match q.index {
        IndexName::Primary => ("pk", "sk"),
        IndexName::Inverted => ("ipk", "isk"),
    };
    let (cmp, order) = if q.ascending { (">", "ASC") } else { ("<", "DESC") };
    let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {pcol} = ?1 AND (ttl IS NULL OR ttl > ?2)");
    let mut args: Vec<rusqlite::types::Value> = vec![q.pk.clone().into(), now.into()];
    match &q.sk {
        SortKey::All => {}
        SortKey::BeginsWith(prefix) => {
            args.push(prefix.clone().into());
            let n = args.len();
            // The bounds let the index seek to the prefix instead of reading the partition;
            // `substr` stays the exact test.
            sql += &format!(" AND {scol} >= ?{n} AND substr({scol}, 1, length(?{n})) = ?{n}");
            if let Some(end) = prefix_end(prefix) {
                args.push(end.into());
                sql += &format!(" AND {scol} < ?{}", n + 1);
            }
        }
        SortKey::After(key) => {
            args.push(key.clone().into());
            sql += &format!(" AND {scol} > ?{}", args.len());
        }
        SortKey::Between(from, to) => {
            args.push(from.clone().into());
            args.push(to.clone().into());
            let n = args.len();
            sql += &format!(" AND {scol} BETWEEN ?{} AND ?{}", n - 1, n);
        }
    }
    // A sort key is unique within a table partition, so the primary order is `sk` alone
    // (naming `pk, sk` after it made SQLite sort each page in a temporary b-tree); index
    // entries may share a sort key, so there the table key breaks ties.
    let order_by = match q.index {
        IndexName::Primary => format!("sk {order}"),
        IndexName::Inverted => format!("isk {order}, pk {order}, sk {order}"),
    };
    if let Some(c) = after {
        let n = args.len();
        match q.index {
            IndexName::Primary => {
                args.push(c.sk.clone().into());
                sql += &format!(" AND sk {cmp} ?{}", n + 1);
            }
            IndexName::Inverted => {
                args.push(c.isk.clone().unwrap_or_default().into());
                args.push(c.pk.clone().into());
                args.push(c.sk.clone().into());
                sql += &format!(" AND (isk, pk, sk) {cmp} (?{}, ?{}, ?{})", n + 1, n + 2, n + 3);
            }
        }
    }
    args.push((q.page_size() as i64 + 1).into());
    sql += &format!(" ORDER BY {order_by} LIMIT ?{}", args.len());
    (sql, args)
}

/// The least string above every string that starts with `prefix`, when a last ASCII
/// character can simply be incremented (key prefixes are ASCII: `f#`, `n#`).
fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !last.is_ascii() || last == 0x7f {
        return None;
    }
    let mut end = prefix[..prefix.len() - 1].to_string();
    end.push(char::from(last + 1));
    Some(end)
}

fn query_page(conn: &Connection, q: &Query, after: Option<&CursorKey>, now: i64) -> Result<Page, StoreError> {
    let (sql, args) = query_sql(q, after, now);
    let page_size = q.page_size();
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), row_to_item)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let mut items = rows.into_iter().collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > page_size;
    items.truncate(page_size);
    let cursor = match (more, items.last()) {
        (true, Some(last)) => Some(
            CursorKey {
                pk: last.key.pk.clone(),
                sk: last.key.sk.clone(),
                ipk: last.index_key.as_ref().map(|k| k.pk.clone()),
                isk: last.index_key.as_ref().map(|k| k.sk.clone()),
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(Page { items, cursor })
}

fn check(cond: &Option<Condition>, stored: Option<&Item>, now: i64) -> bool {
    cond.as_ref().is_none_or(|c| c.holds(stored, now))
}

fn updated(key: &Key, stored: Option<Item>, updates: &[Update]) -> Item {
    let mut item = stored.unwrap_or_else(|| Item::new(key.clone()));
    for u in updates {
        u.apply(&mut item);
    }
    item
}

fn validate_updates(updates: &[Update]) -> Result<(), StoreError> {
    for u in updates {
        if let Update::Set(n, _) | Update::Add(n, _) | Update::Remove(n) = u {
            if crate::ports::store::RESERVED_ATTRS.contains(&n.as_str()) {
                return Err(StoreError::Invalid(format!("attribute name `{n}` is reserved")));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.read_only(move |conn, now| Ok(read(conn, &key)?.filter(|i| i.is_live(now))))
            .await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        validate_item(&item)?;
        let key = item.key.clone();
        self.conditional_write(key, condition, move |tx, _| write(tx, &item))
            .await
    }

    async fn update(&self, key: &Key, updates: Vec<Update>, condition: Option<Condition>) -> Result<Item, StoreError> {
        validate_updates(&updates)?;
        self.conditional_write(key.clone(), condition, move |tx, stored| {
            let item = updated(&stored.key, stored.item, &updates);
            write(tx, &item)?;
            Ok(item)
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.conditional_write(key.clone(), condition, |tx, stored| {
            remove(tx, &stored.key)?;
            Ok(stored.item)
        })
        .await
    }

    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        let after = q.cursor.as_deref().map(CursorKey::decode).transpose()?;
        self.read_only(move |conn, now| query_page(conn, &q, after.as_ref(), now))
            .await
    }

    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_tx(&ops)?;
        for op in &ops {
            if let TxOp::Update { updates, .. } = op {
                validate_updates(updates)?;
            }
        }
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Check every condition first, so the error names the first that failed.
            let mut stored = Vec::with_capacity(ops.len());
            for (index, op) in ops.iter().enumerate() {
                let current = read(&tx, op.key())?;
                let cond = match op {
                    TxOp::Put { condition, .. } | TxOp::Update { condition, .. } | TxOp::Delete { condition, .. } => {
                        condition.clone()
                    }
                    TxOp::Check { condition, .. } => Some(condition.clone()),
                };
                if !check(&cond, current.as_ref(), now) {
                    return Err(StoreError::TxConditionFailed { index });
                }
                stored.push(current);
            }
            for (op, current) in ops.into_iter().zip(stored) {
                match op {
                    TxOp::Put { item, .. } => write(&tx, &item)?,
                    TxOp::Update { key, updates, .. } => write(&tx, &updated(&key, current, &updates))?,
                    TxOp::Delete { key, .. } => remove(&tx, &key)?,
                    TxOp::Check { .. } => {}
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // The same read as `transact_get`: one read transaction takes the file's read lock
        // once for all the keys, where a read per key took it once each.
        self.transact_get(keys).await
    }

    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let distinct = distinct_batch_keys(keys)?;
        let keys = keys.to_vec();
        self.read_only(move |conn, now| {
            // One read transaction: one snapshot of the file, whatever other processes
            // commit meanwhile. One key is one statement, a snapshot by itself.
            if let [key] = distinct.as_slice() {
                let item = read(conn, key)?.filter(|i| i.is_live(now));
                return Ok(vec![item; keys.len()]);
            }
            let found = in_read_transaction(conn, |conn| {
                let mut found = std::collections::HashMap::with_capacity(distinct.len());
                for k in distinct {
                    if let Some(item) = read(conn, &k)?.filter(|i| i.is_live(now)) {
                        found.insert(k, item);
                    }
                }
                Ok(found)
            })?;
            Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
        })
        .await
    }
}

/// Runs the reads in one read transaction. `BEGIN` and `COMMIT` are cached statements
/// (rusqlite's `transaction()` parses them again each time).
fn in_read_transaction<T>(
    conn: &Connection,
    reads: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.prepare_cached("BEGIN")
        .and_then(|mut s| s.execute([]))
        .map_err(backend)?;
    let out = reads(conn);
    let end = if out.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.prepare_cached(end).and_then(|mut s| s.execute([]));
    let out = out?;
    ended.map_err(backend)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ManualClock;

    #[test]
    fn an_acknowledged_write_survives_a_power_loss_unless_told_otherwise() {
        let dir = std::env::temp_dir().join(format!("roster-sync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = Arc::new(ManualClock::starting_at_secs(1_800_000_000));
        let full = SqliteStore::open(&dir.join("a.db"), clock.clone()).unwrap();
        assert_eq!(full.synchronous().unwrap(), 2, "FULL by default");
        let normal = SqliteStore::open_with(&dir.join("b.db"), clock, Durability::Normal).unwrap();
        assert_eq!(normal.synchronous().unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_query_is_compiled_once_whatever_its_arguments_and_never_sorts() {
        let dir = std::env::temp_dir().join(format!("roster-prepare-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = Arc::new(ManualClock::starting_at_secs(1_800_000_000));
        let store = SqliteStore::open(&dir.join("a.db"), clock).unwrap();
        let conn = store.conn.lock().unwrap();
        let after = CursorKey {
            pk: "u#1".into(),
            sk: "f#2".into(),
            ipk: Some("u#3".into()),
            isk: Some("n#4".into()),
        };
        let shapes = [
            Query::partition("p"),
            Query::partition("p").begins_with("f#"),
            Query::partition("p").sk_after("v#1").descending(),
            Query::partition("p").sk_between("a", "b"),
            Query::partition("p").begins_with("n#").on(IndexName::Inverted),
        ];
        for shape in shapes {
            for (run, limit) in [1usize, 20, 1000, 7].into_iter().enumerate() {
                let q = Query {
                    pk: format!("u#{run}"),
                    ..shape.clone()
                }
                .limit(limit);
                let cursor = (run % 2 == 1).then_some(&after);
                query_page(&conn, &q, cursor, 1_800_000_000 + run as i64).unwrap();
                let (sql, args) = query_sql(&q, cursor, 0);
                let stmt = conn.prepare_cached(&sql).unwrap();
                assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
                drop(stmt);
                // Pages come in index order: no query sorts (a temporary b-tree).
                let plan: Vec<String> = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap()
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{sql}: {plan:?}");
            }
        }
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
