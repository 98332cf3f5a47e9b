//! The DynamoDB repository against moto, held to the same conformance suite as the in-memory one.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use photo_aws::DynamoDbRepository;
use photo_domain::conformance::{TableProbe, run_all};
use testkit::MotoServer;
use testkit::aws::TABLE;

/// Raw reads of the table through Query, on the table and on `gsi1`.
struct Probe(aws_sdk_dynamodb::Client);

fn text(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    item[name].as_s().unwrap().clone()
}

#[async_trait]
impl TableProbe for Probe {
    async fn sort_keys(&self, pk: &str) -> Vec<String> {
        let out = self
            .0
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("querying a partition");
        assert!(
            out.last_evaluated_key.is_none(),
            "test partitions fit one page"
        );
        out.items().iter().map(|i| text(i, "sk")).collect()
    }

    async fn gsi1_keys(&self, gsi1pk: &str) -> Vec<(String, String)> {
        let out = self
            .0
            .query()
            .table_name(TABLE)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :g")
            .expression_attribute_values(":g", AttributeValue::S(gsi1pk.into()))
            .send()
            .await
            .expect("querying gsi1");
        out.items()
            .iter()
            .map(|i| (text(i, "pk"), text(i, "sk")))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_repository_conforms() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    photo_aws::table::create_table(&aws_sdk_dynamodb::Client::new(&config), TABLE)
        .await
        .expect("creating the table");
    let repo = Arc::new(DynamoDbRepository::new(&config, TABLE));
    let probe = Probe(repo.client().clone());
    run_all(repo, &probe, "ddb").await;
}
