//! Ports: what the domain needs from the outside world, as small traits.
pub mod challenge;
pub mod clock;
pub mod messages;
pub mod random;
pub mod store;
pub mod uploads;

pub use challenge::{ChallengeError, ChallengeVerifier};
pub use clock::{Clock, ManualClock, SystemClock};
pub use messages::{MessageSender, SendError};
pub use random::{OsRandom, Random};
pub use store::{Attr, Condition, IndexName, Item, Key, Page, Query, SortKey, Store, StoreError, TxOp, Update};
pub use uploads::{PresignedUpload, UploadError, UploadSigner};
