//! The photo repository on one DynamoDB table, laid out as in [`photo_domain::keys`].
//!
//! Listings are key-range `Query`s on one partition (never a `Scan`), descending, resuming with
//! `ExclusiveStartKey` built from the domain's [`SortKey`]. Every state change is a conditional
//! write; where the in-memory model changes several items at once this is one
//! `TransactWriteItems`, and a failed condition maps onto the same domain error the in-memory
//! adapter returns, read from the transaction's cancellation reasons.
//!
//! [`SortKey`]: photo_domain::SortKey

mod albums;
mod awaited;
mod calls;
mod encoding;
mod finish;
mod repository;
mod timeline;

use aws_sdk_dynamodb::Client;

pub use timeline::Backfill;

/// The name of the global secondary index answering "what points at this photo or album" (and
/// listing the awaited uploads).
pub const GSI1: &str = "gsi1";

/// The name of the global secondary index listing an owner's photos by date taken.
pub const TIMELINE_INDEX: &str = "timeline";

/// The photo repository on the stage's table (`PHOTO_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoDbRepository {
    client: Client,
    table: String,
}

impl DynamoDbRepository {
    /// A repository on `table`, with a client built from `config` (on Lambda, the default
    /// chain; in tests, an endpoint override pointing at moto).
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(config), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        DynamoDbRepository {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
