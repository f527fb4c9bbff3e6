//! Transactions whose operations are named steps: a failed condition is reported by the
//! name of its step, so adding an operation never changes what another failure means.

use std::fmt::Debug;

use crate::ports::{Store, StoreError, TxOp};

/// The store's limit of operations per transaction.
const MAX_OPS: usize = 100;

pub struct Tx<S> {
    steps: Vec<S>,
    ops: Vec<TxOp>,
}

#[derive(Debug)]
pub enum TxError<S> {
    /// The condition of this step did not hold; nothing was written.
    Failed(S),
    /// A concurrent transaction touched the same items; nothing was written.
    Conflict,
    Store(StoreError),
}

impl<S: Copy + Debug> Default for Tx<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Copy + Debug> Tx<S> {
    pub fn new() -> Self {
        Tx {
            steps: vec![],
            ops: vec![],
        }
    }

    pub fn step(mut self, step: S, op: TxOp) -> Self {
        self.steps.push(step);
        self.ops.push(op);
        self
    }

    /// Several operations under one name (the sessions a password change ends, ...).
    pub fn steps(mut self, step: S, ops: impl IntoIterator<Item = TxOp>) -> Self {
        for op in ops {
            self = self.step(step, op);
        }
        self
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Commits all or nothing. Past the store's limit of 100 operations the first 100
    /// commit together and the rest follow in further transactions: put every step
    /// whose condition matters first, and only idempotent clean-up (deleting a user's
    /// many sessions) after them.
    pub async fn commit(self, store: &dyn Store) -> Result<(), TxError<S>> {
        let mut ops = self.ops;
        let mut offset = 0;
        while !ops.is_empty() {
            let rest = ops.split_off(ops.len().min(MAX_OPS));
            let n = ops.len();
            match store.transact_write(ops).await {
                Ok(()) => {}
                Err(StoreError::TxConditionFailed { index }) => {
                    return Err(match self.steps.get(offset + index) {
                        Some(step) => TxError::Failed(*step),
                        None => TxError::Store(StoreError::Backend(format!(
                            "the store reported a failed condition at {index} of {n}"
                        ))),
                    })
                }
                Err(StoreError::Conflict) => return Err(TxError::Conflict),
                Err(e) => return Err(TxError::Store(e)),
            }
            offset += n;
            ops = rest;
        }
        Ok(())
    }
}
