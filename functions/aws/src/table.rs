//! The photo table's definition, as the stack declares it, for creating it on an emulator.
//!
//! On AWS the stack creates the table; this is for moto in tests and for local runs against an
//! emulator, so that every such table has exactly the stack's key schema.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

/// Why the table could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateTableFailure {
    /// The request could not be built.
    #[error("building the table definition: {0}")]
    Build(#[from] BuildError),
    /// DynamoDB refused or could not be reached.
    #[error("creating table `{table}`: {source}")]
    Call {
        /// The table.
        table: String,
        /// What DynamoDB said.
        source: Box<SdkError<CreateTableError>>,
    },
}

fn attribute(name: &str) -> Result<AttributeDefinition, BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
}

/// Creates `table` on demand, keyed `pk`/`sk` (strings), with the `gsi1` index on
/// `gsi1pk`/`gsi1sk` and the `timeline` index on `pk`/`tlsk`, both projecting every attribute:
/// the stack's table.
pub async fn create_table(client: &Client, table: &str) -> Result<(), CreateTableFailure> {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("gsi1pk")?)
        .attribute_definitions(attribute("gsi1sk")?)
        .attribute_definitions(attribute("tlsk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash)?)
                .key_schema(key("gsi1sk", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("timeline")
                .key_schema(key("pk", KeyType::Hash)?)
                .key_schema(key("tlsk", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await
        .map_err(|source| CreateTableFailure::Call {
            table: table.to_owned(),
            source: Box::new(source),
        })?;
    Ok(())
}
