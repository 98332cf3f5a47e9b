//! The local stage's SQLite repository held to photo-domain's conformance suite, the same one
//! the in-memory model and the DynamoDB adapter (on moto) meet.

use std::sync::Arc;

use async_trait::async_trait;
use local_stage::store::SqliteRepository;
use photo_domain::conformance::{TableProbe, run_all};

/// Raw reads of the table: a partition by `pk`, and `gsi1` by its partition key.
struct Probe(Arc<SqliteRepository>);

#[async_trait]
impl TableProbe for Probe {
    async fn sort_keys(&self, pk: &str) -> Vec<String> {
        self.0.sort_keys(pk).expect("querying a partition")
    }

    async fn gsi1_keys(&self, gsi1pk: &str) -> Vec<(String, String)> {
        self.0.gsi1_keys(gsi1pk).expect("querying gsi1")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_repository_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Arc::new(SqliteRepository::open(&dir.path().join("stage.sqlite3")).unwrap());
    run_all(repo.clone(), &Probe(repo.clone()), "sqlite").await;
    // The same file, reopened, holds what the suite left and conforms again beside it.
    drop(repo);
    let repo = Arc::new(SqliteRepository::open(&dir.path().join("stage.sqlite3")).unwrap());
    run_all(repo.clone(), &Probe(repo), "again").await;
}
