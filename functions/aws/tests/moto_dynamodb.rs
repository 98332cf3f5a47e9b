//! The DynamoDB repository against moto, held to the same conformance suite as the in-memory one.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use photo_aws::DynamoDbRepository;
use photo_domain::conformance::{TableProbe, run_all};
use photo_domain::keys;
use photo_domain::types::UlidGenerator;
use photo_domain::{
    Album, AlbumId, AlbumName, ContentType, Dimensions, FileName, Photo, PhotoId, ProcessedInfo,
    ProcessingOutcome, Repository as _, Sha256, Timestamp, UserId,
};
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

/// A fresh table on its own moto, and `n` PENDING photos of `owner` uploaded at 2026-09-21.
struct Fresh {
    _moto: MotoServer,
    client: aws_sdk_dynamodb::Client,
    repo: DynamoDbRepository,
    ids: UlidGenerator,
    photos: Vec<Photo>,
}

const UPLOADED: Timestamp = Timestamp::from_millis(1_790_000_000_000);

async fn fresh(owner: &UserId, n: u8) -> Fresh {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    photo_aws::table::create_table(&client, TABLE)
        .await
        .expect("creating the table");
    let repo = DynamoDbRepository::new(&config, TABLE);
    let ids = UlidGenerator::default();
    let mut photos = Vec::new();
    for n in 0..n {
        let id = PhotoId::from_ulid(ids.next(UPLOADED));
        let name = FileName::parse(&format!("IMG_{n}.jpg")).unwrap();
        let sha = Sha256::from_bytes([n; 32]);
        let photo = Photo::pending(id, owner.clone(), name, ContentType::Jpeg, 1, sha, UPLOADED);
        repo.insert_photo(&photo, 1_000).await.unwrap();
        photos.push(photo);
    }
    Fresh {
        _moto: moto,
        client,
        repo,
        ids,
        photos,
    }
}

/// Makes the stored photo look as it did before the timeline: no `tlsk`, and not counted.
async fn as_before_the_timeline(client: &aws_sdk_dynamodb::Client, photo: &Photo) {
    let pk = keys::user_pk(&photo.owner);
    client
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(keys::photo_sk(&photo.id)))
        .update_expression("REMOVE tlsk")
        .send()
        .await
        .expect("removing the timeline key");
    client
        .delete_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk))
        .key(
            "sk",
            AttributeValue::S(keys::month_sk(&photo.timeline_month())),
        )
        .send()
        .await
        .expect("removing the month count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_places_photos_stored_before_the_timeline_once() {
    let owner = UserId::parse("before-the-timeline").unwrap();
    // `_moto` keeps the server up to the end of the test.
    let Fresh {
        _moto,
        client,
        repo,
        mut photos,
        ..
    } = fresh(&owner, 30).await;
    // Ten were processed, taken in June 2024, before the timeline existed.
    let taken = Timestamp::from_millis(1_717_243_389_000);
    for photo in &mut photos[..10] {
        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 3,
                height: 2,
            },
            taken_at: Some(taken),
            taken_offset_minutes: Some(120),
            camera: None,
            gps: None,
            sha256_actual: photo.sha256_declared,
            size: 1,
        };
        repo.start_processing(&owner, &photo.id, 3).await.unwrap();
        *photo = repo
            .finish_processing(&owner, &photo.id, &ProcessingOutcome::Ready(info))
            .await
            .unwrap();
    }
    for photo in &photos {
        as_before_the_timeline(&client, photo).await;
    }
    assert!(
        repo.list_timeline(&owner, None, 50)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(repo.timeline_months(&owner).await.unwrap().is_empty());

    // One photo stored before the timeline finishes processing now: it stays off the timeline
    // (its status changes, not its place), and the backfill places it where it was taken.
    let late = photos[10].clone();
    repo.start_processing(&owner, &late.id, 3).await.unwrap();
    let failed = ProcessingOutcome::Failed {
        reason: "not an image".into(),
        actual: None,
    };
    repo.finish_processing(&owner, &late.id, &failed)
        .await
        .unwrap();
    // And one is deleted before the backfill: nothing to count.
    repo.delete_photo(&owner, &photos[29].id).await.unwrap();

    let first = repo.backfill_timeline().await.expect("the backfill");
    assert_eq!((first.found, first.placed), (29, 29), "{first:?}");
    let months = repo.timeline_months(&owner).await.unwrap();
    let months: Vec<_> = months
        .iter()
        .map(|m| (m.month.as_str(), m.photos))
        .collect();
    assert_eq!(months, vec![("2026-09", 19), ("2024-06", 10)]);
    let listed = repo.list_timeline(&owner, None, 50).await.unwrap();
    assert_eq!(listed.items.len(), 29);
    assert!(listed.items[19..].iter().all(|p| p.taken_at == Some(taken)));

    // Again: nothing is found, nothing counted twice.
    let again = repo.backfill_timeline().await.expect("the backfill again");
    assert_eq!((again.found, again.placed), (0, 0));
    assert_eq!(repo.timeline_months(&owner).await.unwrap().len(), 2);

    // Once placed, photos come and go from their months as any other.
    repo.delete_photo(&owner, &photos[0].id).await.unwrap();
    let months = repo.timeline_months(&owner).await.unwrap();
    assert_eq!(months[1].photos, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn albums_from_before_their_counts_are_counted_once_or_at_their_next_change() {
    let owner = UserId::parse("older-albums").unwrap();
    let Fresh {
        _moto,
        client,
        repo,
        ids,
        photos,
    } = fresh(&owner, 3).await;
    let now = UPLOADED;
    let mut albums = Vec::new();
    for name in ["Counted by the backfill", "Counted at its next change"] {
        let id = AlbumId::from_ulid(ids.next(now));
        let album = Album::new(id, owner.clone(), AlbumName::parse(name).unwrap(), now);
        repo.insert_album(&album).await.unwrap();
        for p in &photos[..2] {
            repo.add_to_album(&owner, &id, &p.id).await.unwrap();
        }
        // As albums were stored before they kept their contents.
        client
            .update_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(keys::user_pk(&owner)))
            .key("sk", AttributeValue::S(keys::album_sk(&id)))
            .update_expression("REMOVE photo_count, cover, cover_chosen, revision")
            .send()
            .await
            .unwrap();
        albums.push(id);
    }
    let count = async |id: &AlbumId| {
        repo.get_album(&owner, id)
            .await
            .unwrap()
            .unwrap()
            .photo_count
    };
    assert_eq!((count(&albums[0]).await, count(&albums[1]).await), (0, 0));

    // The next change of the second counts its members first.
    repo.add_to_album(&owner, &albums[1], &photos[2].id)
        .await
        .unwrap();
    let second = repo.get_album(&owner, &albums[1]).await.unwrap().unwrap();
    assert_eq!((second.photo_count, second.cover), (3, Some(photos[0].id)));

    // The backfill counts the first, once; the second needs nothing.
    assert_eq!(repo.recount_older_albums().await.unwrap(), 1);
    assert_eq!(count(&albums[0]).await, 2);
    assert_eq!(repo.recount_older_albums().await.unwrap(), 0);
    repo.remove_from_album(&owner, &albums[0], &photos[0].id)
        .await
        .unwrap();
    let first = repo.get_album(&owner, &albums[0]).await.unwrap().unwrap();
    assert_eq!((first.photo_count, first.cover), (1, Some(photos[1].id)));
}
