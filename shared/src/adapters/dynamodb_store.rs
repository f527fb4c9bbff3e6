//! The store port on DynamoDB, single table: `pk`/`sk` keys, a sparse `inverted` global
//! secondary index on `ipk`/`isk`, and TTL on `ttl` (epoch seconds). Conditions are checked
//! by DynamoDB itself; expired-but-not-yet-deleted items are filtered out here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType, TransactGetItem,
    TransactWriteItem,
};
use aws_sdk_dynamodb::Client;

use crate::ports::store::{
    distinct_batch_keys, validate_item, validate_tx, Attr, Condition, CursorKey, IndexName, Item, Key, Page, Query,
    SortKey, Store, StoreError, TxOp, Update, RESERVED_ATTRS,
};
use crate::ports::Clock;

pub const INVERTED_INDEX: &str = "inverted";

pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

type AttrMap = HashMap<String, AttributeValue>;

fn backend<E: std::error::Error>(e: E) -> StoreError {
    // The SDK's Display is terse; the source chain says what actually failed.
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    StoreError::Backend(msg)
}

/// A single-item conditional write's error: the condition failed, or the backend did.
fn write_error<E, R>(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error().and_then(|e| e.code()) {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        _ => backend(err),
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_av(a: &Attr) -> AttributeValue {
    match a {
        Attr::S(v) => s(v),
        Attr::N(v) => n(*v),
        Attr::Bool(b) => AttributeValue::Bool(*b),
    }
}

fn key_map(key: &Key) -> AttrMap {
    HashMap::from([("pk".to_string(), s(&key.pk)), ("sk".to_string(), s(&key.sk))])
}

fn item_map(item: &Item) -> AttrMap {
    let mut m = key_map(&item.key);
    if let Some(ik) = &item.index_key {
        m.insert("ipk".into(), s(&ik.pk));
        m.insert("isk".into(), s(&ik.sk));
    }
    if let Some(t) = item.expires_at {
        m.insert("ttl".into(), n(t));
    }
    for (k, v) in &item.attrs {
        m.insert(k.clone(), to_av(v));
    }
    m
}

fn get_s(m: &AttrMap, name: &str) -> Option<String> {
    m.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(m: &AttrMap, name: &str) -> Result<Option<i64>, StoreError> {
    match m.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Backend(format!("attribute {name} is not an i64: {v}"))),
        Some(_) => Err(StoreError::Backend(format!("attribute {name} is not a number"))),
    }
}

fn from_map(m: &AttrMap) -> Result<Item, StoreError> {
    let key = Key {
        pk: get_s(m, "pk").ok_or_else(|| StoreError::Backend("item without pk".into()))?,
        sk: get_s(m, "sk").ok_or_else(|| StoreError::Backend("item without sk".into()))?,
    };
    let index_key = get_s(m, "ipk").zip(get_s(m, "isk")).map(|(pk, sk)| Key { pk, sk });
    let expires_at = get_n(m, "ttl")?;
    let mut item = Item {
        key,
        index_key,
        expires_at,
        attrs: Default::default(),
    };
    for (k, v) in m {
        if RESERVED_ATTRS.contains(&k.as_str()) {
            continue;
        }
        let attr = match v {
            AttributeValue::S(x) => Attr::S(x.clone()),
            AttributeValue::N(_) => Attr::N(get_n(m, k)?.unwrap_or_default()),
            AttributeValue::Bool(b) => Attr::Bool(*b),
            _ => return Err(StoreError::Backend(format!("attribute {k} has an unsupported type"))),
        };
        item.attrs.insert(k.clone(), attr);
    }
    Ok(item)
}

/// Placeholders for one expression request.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        self.names.insert(placeholder.clone(), name.to_string());
        placeholder
    }
    fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }
    fn condition(&mut self, c: &Condition, now: i64) -> String {
        match c {
            Condition::Exists => {
                let (pk, ttl, now) = (self.name("pk"), self.name("ttl"), self.value(n(now)));
                format!("(attribute_exists({pk}) AND (attribute_not_exists({ttl}) OR {ttl} > {now}))")
            }
            Condition::NotExists => {
                let (pk, ttl, now) = (self.name("pk"), self.name("ttl"), self.value(n(now)));
                format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
            }
            Condition::Eq(name, v) => format!("{} = {}", self.name(name), self.value(to_av(v))),
            Condition::AbsentOrLessThan(name, bound) => {
                let (a, b) = (self.name(name), self.value(n(*bound)));
                format!("(attribute_not_exists({a}) OR {a} < {b})")
            }
            Condition::And(cs) | Condition::Or(cs) if cs.is_empty() => {
                let pk = self.name("pk");
                let always = format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))");
                if matches!(c, Condition::And(_)) {
                    always
                } else {
                    format!("(NOT {always})")
                }
            }
            // DynamoDB refuses redundant parentheses: a lone condition stands as itself.
            Condition::And(cs) | Condition::Or(cs) if cs.len() == 1 => self.condition(&cs[0], now),
            Condition::And(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c, now)).collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::Or(cs) => {
                let parts: Vec<_> = cs.iter().map(|c| self.condition(c, now)).collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }
    fn update(&mut self, updates: &[Update]) -> String {
        let (mut set, mut add, mut rem) = (vec![], vec![], vec![]);
        for u in updates {
            match u {
                Update::Set(a, v) => set.push(format!("{} = {}", self.name(a), self.value(to_av(v)))),
                Update::SetExpiry(t) => set.push(format!("{} = {}", self.name("ttl"), self.value(n(*t)))),
                Update::Add(a, by) => add.push(format!("{} {}", self.name(a), self.value(n(*by)))),
                Update::Remove(a) => rem.push(self.name(a)),
            }
        }
        let mut expr = String::new();
        for (kw, parts) in [("SET", set), ("ADD", add), ("REMOVE", rem)] {
            if !parts.is_empty() {
                expr += &format!("{kw} {} ", parts.join(", "));
            }
        }
        expr.trim_end().to_string()
    }
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn check_updates(updates: &[Update]) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Err(StoreError::Invalid("an update needs at least one change".into()));
    }
    for u in updates {
        if let Update::Set(a, _) | Update::Add(a, _) | Update::Remove(a) = u {
            if RESERVED_ATTRS.contains(&a.as_str()) {
                return Err(StoreError::Invalid(format!("attribute name `{a}` is reserved")));
            }
        }
    }
    Ok(())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            clock,
        }
    }

    /// Creates the table as `template.yaml` declares it (for tests and DynamoDB Local).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        let key = |name: &str, kt: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kt)
                .build()
                .map_err(backend)
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(INVERTED_INDEX)
            .key_schema(key("ipk", KeyType::Hash)?)
            .key_schema(key("isk", KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(backend)?;
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("ipk")?)
            .attribute_definitions(attr("isk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn now(&self) -> i64 {
        self.clock.now_secs()
    }
}

fn tx_item(table: &str, op: &TxOp, now: i64) -> Result<TransactWriteItem, StoreError> {
    let mut e = Expr::default();
    let b = TransactWriteItem::builder();
    let built = match op {
        TxOp::Put { item, condition } => {
            let cond = condition.as_ref().map(|c| e.condition(c, now));
            b.put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item_map(item)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            )
        }
        TxOp::Update {
            key,
            updates,
            condition,
        } => {
            check_updates(updates)?;
            let update = e.update(updates);
            let cond = condition.as_ref().map(|c| e.condition(c, now));
            b.update(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .update_expression(update)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            )
        }
        TxOp::Delete { key, condition } => {
            let cond = condition.as_ref().map(|c| e.condition(c, now));
            b.delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            )
        }
        TxOp::Check { key, condition } => {
            let cond = e.condition(condition, now);
            b.condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            )
        }
    };
    Ok(built.build())
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let now = self.now();
        Ok(out.item().map(from_map).transpose()?.filter(|i| i.is_live(now)))
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        validate_item(&item)?;
        let mut e = Expr::default();
        let cond = condition.as_ref().map(|c| e.condition(c, self.now()));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_map(&item)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(err) => Err(write_error(err)),
        }
    }

    async fn update(&self, key: &Key, updates: Vec<Update>, condition: Option<Condition>) -> Result<Item, StoreError> {
        check_updates(&updates)?;
        let mut e = Expr::default();
        let update = e.update(&updates);
        let cond = condition.as_ref().map(|c| e.condition(c, self.now()));
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(update)
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => from_map(
                out.attributes()
                    .ok_or_else(|| StoreError::Backend("update returned no item".into()))?,
            ),
            Err(err) => Err(write_error(err)),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let mut e = Expr::default();
        let cond = condition.as_ref().map(|c| e.condition(c, self.now()));
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => out.attributes().map(from_map).transpose(),
            Err(err) => Err(write_error(err)),
        }
    }

    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        let mut e = Expr::default();
        let (pcol, scol) = match q.index {
            IndexName::Primary => ("pk", "sk"),
            IndexName::Inverted => ("ipk", "isk"),
        };
        let mut key_cond = format!("{} = {}", e.name(pcol), e.value(s(&q.pk)));
        match &q.sk {
            SortKey::All => {}
            SortKey::BeginsWith(prefix) => {
                key_cond += &format!(" AND begins_with({}, {})", e.name(scol), e.value(s(prefix)));
            }
            SortKey::After(key) => key_cond += &format!(" AND {} > {}", e.name(scol), e.value(s(key))),
            SortKey::Between(from, to) => {
                key_cond += &format!(
                    " AND {} BETWEEN {} AND {}",
                    e.name(scol),
                    e.value(s(from)),
                    e.value(s(to))
                )
            }
        }
        let (ttl, now) = (e.name("ttl"), e.value(n(self.now())));
        let filter = format!("attribute_not_exists({ttl}) OR {ttl} > {now}");
        let start = match q.cursor.as_deref().map(CursorKey::decode).transpose()? {
            None => None,
            Some(c) => {
                let mut m = key_map(&Key { pk: c.pk, sk: c.sk });
                if q.index == IndexName::Inverted {
                    m.insert("ipk".into(), s(&c.ipk.unwrap_or_default()));
                    m.insert("isk".into(), s(&c.isk.unwrap_or_default()));
                }
                Some(m)
            }
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name((q.index == IndexName::Inverted).then(|| INVERTED_INDEX.to_string()))
            .key_condition_expression(key_cond)
            .filter_expression(filter)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .limit(q.page_size() as i32)
            .scan_index_forward(q.ascending)
            .set_exclusive_start_key(start)
            // Index reads are eventually consistent on DynamoDB; the table read is not.
            .set_consistent_read((q.index == IndexName::Primary).then_some(true))
            .send()
            .await
            .map_err(backend)?;
        let items = out.items().iter().map(from_map).collect::<Result<Vec<_>, _>>()?;
        let cursor = out.last_evaluated_key().map(|m| {
            CursorKey {
                pk: get_s(m, "pk").unwrap_or_default(),
                sk: get_s(m, "sk").unwrap_or_default(),
                ipk: get_s(m, "ipk"),
                isk: get_s(m, "isk"),
            }
            .encode()
        });
        Ok(Page { items, cursor })
    }

    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_tx(&ops)?;
        let now = self.now();
        let items = ops
            .iter()
            .map(|op| tx_item(&self.table, op, now))
            .collect::<Result<Vec<_>, _>>()?;
        // A conflict with another in-flight transaction is not a verdict on our conditions:
        // try again a few times before reporting it.
        let mut attempt = 0u32;
        loop {
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match res {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let reasons = err
                .as_service_error()
                .and_then(|e| match e {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                        Some(c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect::<Vec<_>>())
                    }
                    _ => None,
                });
            let conflict_in_flight = err
                .as_service_error()
                .is_some_and(|e| e.is_transaction_in_progress_exception());
            match reasons {
                Some(codes) => {
                    if let Some(index) = codes.iter().position(|c| c == "ConditionalCheckFailed") {
                        return Err(StoreError::TxConditionFailed { index });
                    }
                    if !codes.iter().any(|c| c == "TransactionConflict") {
                        return Err(StoreError::Backend(format!("transaction cancelled: {codes:?}")));
                    }
                }
                None if conflict_in_flight => {}
                None => return Err(backend(err)),
            }
            attempt += 1;
            if attempt >= 6 {
                return Err(StoreError::Conflict);
            }
            let jitter = (now as u64 ^ (attempt as u64 * 7919)) % 20;
            tokio::time::sleep(Duration::from_millis(10 * (1 << attempt) + jitter)).await;
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // DynamoDB refuses a request that names a key twice.
        let distinct = distinct_batch_keys(keys)?;
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<AttrMap> = distinct.iter().map(key_map).collect();
        if pending.is_empty() {
            return Ok(vec![]);
        }
        let mut rounds = 0;
        while !pending.is_empty() {
            let req = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(backend)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, req)
                .send()
                .await
                .map_err(backend)?;
            for m in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let item = from_map(m)?;
                found.insert(item.key.clone(), item);
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
            rounds += 1;
            if !pending.is_empty() {
                if rounds > 8 {
                    return Err(StoreError::Backend("batch get left keys unprocessed".into()));
                }
                tokio::time::sleep(Duration::from_millis(20 << rounds.min(5))).await;
            }
        }
        let now = self.now();
        Ok(keys
            .iter()
            .map(|k| found.get(k).filter(|i| i.is_live(now)).cloned())
            .collect())
    }

    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let distinct = distinct_batch_keys(keys)?;
        if distinct.is_empty() {
            return Ok(vec![]);
        }
        let items = distinct
            .iter()
            .map(|k| {
                let get = aws_sdk_dynamodb::types::Get::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_map(k)))
                    .build()
                    .map_err(backend)?;
                Ok(TransactGetItem::builder().get(get).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let out = self
            .client
            .transact_get_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(backend)?;
        let mut found: HashMap<Key, Item> = HashMap::new();
        for response in out.responses() {
            if let Some(m) = response.item() {
                let item = from_map(m)?;
                found.insert(item.key.clone(), item);
            }
        }
        let now = self.now();
        Ok(keys
            .iter()
            .map(|k| found.get(k).filter(|i| i.is_live(now)).cloned())
            .collect())
    }
}
