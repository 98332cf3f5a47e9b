//! In-memory adapters for every port: used by tests, and by the local stage until it persists.
//!
//! The repository is a model of the single table, not a shortcut around it: items sit in a map
//! ordered by `(pk, sk)`, listings are descending range reads over one partition, `gsi1` lookups
//! select by the same `gsi1pk` values the DynamoDB adapter writes, and every write checks the same
//! conditions. The object store signs URLs with an HMAC it can check again, like S3 would.

mod clock;
mod identity;
mod object_store;
mod signing;
mod table;

pub use clock::ManualClock;
pub use identity::TestIdentityVerifier;
pub use object_store::{InMemoryObjectStore, StoredObject};
pub use table::{InMemoryRepository, Item};
