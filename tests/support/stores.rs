//! Store wrappers a test puts around the app's store in one line:
//! `TestApp::spawn_wrapped(kind, |s| counting.wrap(s))`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use roster::ports::{Condition, Item, Key, Page, Query, Store, StoreError, TxOp, Update};

/// Counts the calls (round trips) that reach the store, by kind.
#[derive(Default)]
pub struct Counting {
    inner: Mutex<Option<Arc<dyn Store>>>,
    calls: AtomicUsize,
    transactions: AtomicUsize,
}

impl Counting {
    pub fn new() -> Arc<Counting> {
        Arc::new(Counting::default())
    }
    /// Wraps `store`; the returned store counts into `self`.
    pub fn wrap(self: &Arc<Self>, store: Arc<dyn Store>) -> Arc<dyn Store> {
        *self.inner.lock().unwrap() = Some(store);
        self.clone()
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn transactions(&self) -> usize {
        self.transactions.load(Ordering::SeqCst)
    }
    fn store(&self) -> Arc<dyn Store> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.lock().unwrap().clone().expect("Counting::wrap was called")
    }
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, k: &Key) -> Result<Option<Item>, StoreError> {
        self.store().get(k).await
    }
    async fn put(&self, i: Item, c: Option<Condition>) -> Result<(), StoreError> {
        self.store().put(i, c).await
    }
    async fn update(&self, k: &Key, u: Vec<Update>, c: Option<Condition>) -> Result<Item, StoreError> {
        self.store().update(k, u, c).await
    }
    async fn delete(&self, k: &Key, c: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.store().delete(k, c).await
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.store().query(q).await
    }
    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.transactions.fetch_add(1, Ordering::SeqCst);
        self.store().transact_write(ops).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.store().batch_get(keys).await
    }
    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.store().transact_get(keys).await
    }
}

/// A store whose backend is unreachable: every call fails with a message that must
/// never reach a client (it names an internal host and table).
pub struct Broken;

pub fn broken() -> StoreError {
    StoreError::Backend("connection to db-internal.example:5432 refused (table roster-prod)".into())
}

impl Broken {
    pub fn wrap(_store: Arc<dyn Store>) -> Arc<dyn Store> {
        Arc::new(Broken)
    }
}

#[async_trait]
impl Store for Broken {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(broken())
    }
    async fn put(&self, _: Item, _: Option<Condition>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn update(&self, _: &Key, _: Vec<Update>, _: Option<Condition>) -> Result<Item, StoreError> {
        Err(broken())
    }
    async fn delete(&self, _: &Key, _: Option<Condition>) -> Result<Option<Item>, StoreError> {
        Err(broken())
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(broken())
    }
    async fn transact_write(&self, _: Vec<TxOp>) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn batch_get(&self, _: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        Err(broken())
    }
    async fn transact_get(&self, _: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        Err(broken())
    }
}

/// A store whose process "dies" after `allowed` transactions: every later transaction fails
/// (reads and single-item writes still answer), as when a Lambda is killed mid-way through a
/// multi-transaction job.
pub struct DiesAfter {
    inner: Arc<dyn Store>,
    allowed: AtomicUsize,
}

impl DiesAfter {
    pub fn wrap(store: Arc<dyn Store>, allowed: usize) -> Arc<dyn Store> {
        Arc::new(DiesAfter {
            inner: store,
            allowed: AtomicUsize::new(allowed),
        })
    }
    fn write_allowed(&self) -> Result<(), StoreError> {
        self.allowed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map(|_| ())
            .map_err(|_| StoreError::Backend("the process was killed".into()))
    }
}

#[async_trait]
impl Store for DiesAfter {
    async fn get(&self, k: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(k).await
    }
    async fn put(&self, i: Item, c: Option<Condition>) -> Result<(), StoreError> {
        self.inner.put(i, c).await
    }
    async fn update(&self, k: &Key, u: Vec<Update>, c: Option<Condition>) -> Result<Item, StoreError> {
        self.inner.update(k, u, c).await
    }
    async fn delete(&self, k: &Key, c: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.inner.delete(k, c).await
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.inner.query(q).await
    }
    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.write_allowed()?;
        self.inner.transact_write(ops).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.transact_get(keys).await
    }
}

/// How an injected store fault shows itself.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// The call fails at once (the endpoint refuses the connection).
    Outage,
    /// The call hangs until the SDK's timeout gives up on it; it never reached the table.
    Timeout,
}

/// Fails the Nth store call after `arm`, then answers normally again; counts the writes
/// that reached the store since `arm`, so a test can tell "nothing was written".
pub struct Faulty {
    inner: Mutex<Option<Arc<dyn Store>>>,
    /// Calls left before the failing one (0: the next call fails; `usize::MAX`: off).
    countdown: AtomicUsize,
    fault: Mutex<Fault>,
    hit: std::sync::atomic::AtomicBool,
    writes: Mutex<Vec<String>>,
}

impl Faulty {
    pub fn new() -> Arc<Faulty> {
        Arc::new(Faulty {
            inner: Mutex::new(None),
            countdown: AtomicUsize::new(usize::MAX),
            fault: Mutex::new(Fault::Outage),
            hit: Default::default(),
            writes: Mutex::new(vec![]),
        })
    }
    pub fn wrap(self: &Arc<Self>, store: Arc<dyn Store>) -> Arc<dyn Store> {
        *self.inner.lock().unwrap() = Some(store);
        self.clone()
    }
    /// The `n`th call from now (1-based) fails with `fault`.
    pub fn arm(&self, n: usize, fault: Fault) {
        assert!(n >= 1);
        *self.fault.lock().unwrap() = fault;
        self.hit.store(false, Ordering::SeqCst);
        self.writes.lock().unwrap().clear();
        self.countdown.store(n - 1, Ordering::SeqCst);
    }
    pub fn disarm(&self) {
        self.countdown.store(usize::MAX, Ordering::SeqCst);
    }
    /// Whether the armed fault happened (a request with fewer calls never reaches it).
    pub fn hit(&self) -> bool {
        self.hit.load(Ordering::SeqCst)
    }
    /// The writes that reached the store since `arm` ("update PK/SK", "transaction", …).
    pub fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }
    async fn enter(&self, write: Option<String>) -> Result<Arc<dyn Store>, StoreError> {
        let fire = self
            .countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                usize::MAX => None,
                0 => Some(usize::MAX),
                n => Some(n - 1),
            })
            .map(|before| before == 0)
            .unwrap_or(false);
        if fire {
            self.hit.store(true, Ordering::SeqCst);
            let fault = *self.fault.lock().unwrap();
            return Err(match fault {
                Fault::Outage => StoreError::Backend("dispatch failure: connection refused".into()),
                Fault::Timeout => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    StoreError::Backend("operation timeout: the attempt exceeded 2s".into())
                }
            });
        }
        if let Some(w) = write {
            self.writes.lock().unwrap().push(w);
        }
        Ok(self.inner.lock().unwrap().clone().expect("Faulty::wrap was called"))
    }
}

#[async_trait]
impl Store for Faulty {
    async fn get(&self, k: &Key) -> Result<Option<Item>, StoreError> {
        self.enter(None).await?.get(k).await
    }
    async fn put(&self, i: Item, c: Option<Condition>) -> Result<(), StoreError> {
        let what = format!("put {}/{}", i.key.pk, i.key.sk);
        self.enter(Some(what)).await?.put(i, c).await
    }
    async fn update(&self, k: &Key, u: Vec<Update>, c: Option<Condition>) -> Result<Item, StoreError> {
        self.enter(Some(format!("update {}/{}", k.pk, k.sk)))
            .await?
            .update(k, u, c)
            .await
    }
    async fn delete(&self, k: &Key, c: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.enter(Some(format!("delete {}/{}", k.pk, k.sk)))
            .await?
            .delete(k, c)
            .await
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.enter(None).await?.query(q).await
    }
    async fn transact_write(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        let what = format!("transaction of {} writes", ops.len());
        self.enter(Some(what)).await?.transact_write(ops).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.enter(None).await?.batch_get(keys).await
    }
    async fn transact_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.enter(None).await?.transact_get(keys).await
    }
}
