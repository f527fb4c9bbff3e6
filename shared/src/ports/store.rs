//! The store port: a small, DynamoDB-shaped item API under a single-table key design.
//!
//! Both adapters (embedded SQLite and DynamoDB) implement exactly these semantics, and the
//! conformance suite in `tests/store_conformance.rs` pins them on both.
//!
//! Expiry: an item whose `expires_at` (epoch seconds) is at or before the store clock's
//! "now" reads as absent (get, batch get, query, and the `Exists`/`NotExists` conditions),
//! even while the backend still holds it (DynamoDB deletes expired items lazily).
//! Updates merge into the stored attributes regardless of expiry, as DynamoDB does;
//! callers that count within windows put the window into the key.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Attribute names the adapters reserve for keys, the inverted index and expiry.
pub const RESERVED_ATTRS: [&str; 5] = ["pk", "sk", "ipk", "isk", "ttl"];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Attr {
    S(String),
    N(i64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub key: Key,
    /// Key of this item in the inverted index (sparse: most items have none).
    pub index_key: Option<Key>,
    /// Epoch seconds after which the item reads as absent.
    pub expires_at: Option<i64>,
    pub attrs: BTreeMap<String, Attr>,
}

impl Item {
    pub fn new(key: Key) -> Self {
        Item {
            key,
            index_key: None,
            expires_at: None,
            attrs: BTreeMap::new(),
        }
    }
    pub fn with(mut self, name: &str, value: Attr) -> Self {
        self.attrs.insert(name.to_string(), value);
        self
    }
    pub fn with_s(self, name: &str, value: impl Into<String>) -> Self {
        self.with(name, Attr::S(value.into()))
    }
    pub fn with_n(self, name: &str, value: i64) -> Self {
        self.with(name, Attr::N(value))
    }
    pub fn expiring_at(mut self, epoch_secs: i64) -> Self {
        self.expires_at = Some(epoch_secs);
        self
    }
    pub fn indexed_as(mut self, key: Key) -> Self {
        self.index_key = Some(key);
        self
    }
    pub fn s(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(Attr::S(s)) => Some(s),
            _ => None,
        }
    }
    pub fn n(&self, name: &str) -> Option<i64> {
        match self.attrs.get(name) {
            Some(Attr::N(n)) => Some(*n),
            _ => None,
        }
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.attrs.get(name) {
            Some(Attr::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    pub fn is_live(&self, now_secs: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now_secs)
    }
}

/// Typed write conditions, evaluated atomically against the stored item.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The item is present and not expired.
    Exists,
    /// The item is absent or expired.
    NotExists,
    /// The attribute is present and equal to the value.
    Eq(String, Attr),
    /// The attribute is absent, or a number strictly less than the bound.
    AbsentOrLessThan(String, i64),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    pub fn eq(name: &str, value: Attr) -> Self {
        Condition::Eq(name.to_string(), value)
    }
    /// Evaluation used by adapters that check conditions in process (SQLite).
    pub fn holds(&self, stored: Option<&Item>, now_secs: i64) -> bool {
        let live = stored.filter(|i| i.is_live(now_secs));
        match self {
            Condition::Exists => live.is_some(),
            Condition::NotExists => live.is_none(),
            Condition::Eq(name, v) => stored.and_then(|i| i.attrs.get(name)) == Some(v),
            Condition::AbsentOrLessThan(name, bound) => match stored.and_then(|i| i.attrs.get(name)) {
                None => true,
                Some(Attr::N(n)) => n < bound,
                Some(_) => false,
            },
            Condition::And(cs) => cs.iter().all(|c| c.holds(stored, now_secs)),
            Condition::Or(cs) => cs.iter().any(|c| c.holds(stored, now_secs)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Set(String, Attr),
    /// Adds to a number attribute, treating an absent one as 0.
    Add(String, i64),
    Remove(String),
    SetExpiry(i64),
}

impl Update {
    pub fn set(name: &str, value: Attr) -> Self {
        Update::Set(name.to_string(), value)
    }
    pub fn add(name: &str, by: i64) -> Self {
        Update::Add(name.to_string(), by)
    }
    /// Applies the update in process (SQLite adapter).
    pub fn apply(&self, item: &mut Item) {
        match self {
            Update::Set(n, v) => {
                item.attrs.insert(n.clone(), v.clone());
            }
            Update::Add(n, by) => {
                let cur = item.n(n).unwrap_or(0);
                item.attrs.insert(n.clone(), Attr::N(cur + by));
            }
            Update::Remove(n) => {
                item.attrs.remove(n);
            }
            Update::SetExpiry(t) => item.expires_at = Some(*t),
        }
    }
}

#[derive(Clone, Debug)]
pub enum TxOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        updates: Vec<Update>,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TxOp {
    pub fn key(&self) -> &Key {
        match self {
            TxOp::Put { item, .. } => &item.key,
            TxOp::Update { key, .. } | TxOp::Delete { key, .. } | TxOp::Check { key, .. } => key,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexName {
    /// The table itself: partition `pk`, sort `sk`.
    Primary,
    /// The sparse inverted index: partition `ipk`, sort `isk`.
    Inverted,
}

/// Which sort keys of the partition a query reads. Sort keys compare as UTF-8 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    All,
    BeginsWith(String),
    /// Strictly after the key ("changes since version n").
    After(String),
    /// From the first key to the second, both included (a time window).
    Between(String, String),
}

/// The most items one query page holds, whatever the caller asked for; a limit of 0
/// reads one item. Both adapters clamp the same way.
pub const MAX_PAGE_ITEMS: usize = 1000;
/// The most distinct keys one batch get reads (a repeated key is read once and answered
/// at each of its positions).
pub const MAX_BATCH_KEYS: usize = 100;

/// The distinct keys of a batch get, in first-seen order, within the limit.
pub fn distinct_batch_keys(keys: &[Key]) -> Result<Vec<Key>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<Key> = keys.iter().filter(|k| seen.insert(*k)).cloned().collect();
    if distinct.len() > MAX_BATCH_KEYS {
        return Err(StoreError::Invalid(format!(
            "a batch get holds at most {MAX_BATCH_KEYS} distinct keys, not {}",
            distinct.len()
        )));
    }
    Ok(distinct)
}

#[derive(Clone, Debug)]
pub struct Query {
    pub index: IndexName,
    pub pk: String,
    pub sk: SortKey,
    pub limit: usize,
    pub cursor: Option<String>,
    pub ascending: bool,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Query {
            index: IndexName::Primary,
            pk: pk.into(),
            sk: SortKey::All,
            limit: 100,
            cursor: None,
            ascending: true,
        }
    }
    pub fn begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.sk = SortKey::BeginsWith(prefix.into());
        self
    }
    pub fn sk_after(mut self, key: impl Into<String>) -> Self {
        self.sk = SortKey::After(key.into());
        self
    }
    pub fn sk_between(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.sk = SortKey::Between(from.into(), to.into());
        self
    }
    /// The page size the adapters use: the limit, clamped to 1..=`MAX_PAGE_ITEMS`.
    pub fn page_size(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_ITEMS)
    }
    pub fn on(mut self, index: IndexName) -> Self {
        self.index = index;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
    pub fn descending(mut self) -> Self {
        self.ascending = false;
        self
    }
}

/// One page of a query. `cursor` is opaque and present when more items may follow.
/// A page may hold fewer than `limit` items even when more follow (DynamoDB filters
/// expired items after applying the limit).
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the write condition failed")]
    ConditionFailed,
    #[error("transaction cancelled: the condition of operation {index} failed")]
    TxConditionFailed { index: usize },
    #[error("the write conflicted with a concurrent transaction")]
    Conflict,
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    #[error("store backend failure: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;
    /// Applies the updates (creating the item if absent) and returns the item as stored.
    async fn update(&self, key: &Key, updates: Vec<Update>, condition: Option<Condition>) -> Result<Item, StoreError>;
    /// Deletes the item and returns it as it was (live or not), if it was there.
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError>;
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
    /// All or nothing; at most 100 operations on distinct keys.
    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;
    /// Results in the order of `keys`, a repeated key answered at each of its positions;
    /// at most `MAX_BATCH_KEYS` distinct keys.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;
    /// Like `batch_get`, but one snapshot: it sees all or none of each transaction's
    /// writes to the keys it reads (`docs/sync.md` §3, S3). At most `MAX_BATCH_KEYS`
    /// distinct keys.
    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;
}

/// Checks shared by both adapters before anything reaches the backend.
pub fn validate_item(item: &Item) -> Result<(), StoreError> {
    if item.key.pk.is_empty() || item.key.sk.is_empty() {
        return Err(StoreError::Invalid("empty key".into()));
    }
    if let Some(name) = item.attrs.keys().find(|n| RESERVED_ATTRS.contains(&n.as_str())) {
        return Err(StoreError::Invalid(format!("attribute name `{name}` is reserved")));
    }
    Ok(())
}

pub fn validate_tx(ops: &[TxOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > 100 {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1 to 100 operations, not {}",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        if !seen.insert(op.key()) {
            return Err(StoreError::Invalid("a transaction touches a key twice".into()));
        }
        if let TxOp::Put { item, .. } = op {
            validate_item(item)?;
        }
    }
    Ok(())
}

/// Opaque query cursor: the last key returned (and its index key when paging an index).
#[derive(Serialize, Deserialize)]
pub struct CursorKey {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isk: Option<String>,
}

impl CursorKey {
    pub fn encode(&self) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }
    pub fn decode(cursor: &str) -> Result<Self, StoreError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::Invalid("malformed cursor".into()))?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::Invalid("malformed cursor".into()))
    }
}
