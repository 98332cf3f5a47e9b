//! Fills a local stage's data directory with a library, for `cargo xtask bench scale`: photos
//! written through the stage's own repository (inserted, then processed READY, as an upload
//! would leave them) with a small original and its two derivatives on disk, plus a spread of
//! other users, albums and share links. Run it while no stage uses the directory.
//!
//! `fill_library --data-dir DIR --owner SUB --from N --photos COUNT`: the owner's photos
//! numbered `N..N+COUNT` (photo `i` taken a minute after photo `i - 1`), and a tenth as many
//! again spread over other users.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Parser;
use local_stage::objects::{FileObjectStore, Secrets};
use local_stage::store::SqliteRepository;
use photo_domain::types::UlidGenerator;
use photo_domain::{
    Album, AlbumId, AlbumName, ContentType, Dimensions, FileName, ObjectKey, Photo, PhotoId,
    ProcessedInfo, ProcessingOutcome, Repository, Sha256, Share, ShareTarget, ShareToken,
    Timestamp, UserId,
};
use sha2::Digest as _;

/// A real JPEG of a few hundred bytes (a thumbnail the stage made), standing for every
/// original and derivative.
const TINY_JPEG: &[u8] = include_bytes!("tiny.jpg");
/// 2015-01-01, when the owner's first photo was taken.
const T0_MS: i64 = 1_420_070_400_000;
/// Other users the extra tenth is spread over.
const OTHER_USERS: u64 = 50;
/// One album (with this many photos and a share link) per thousand photos of the owner.
const ALBUM_SIZE: u64 = 20;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    data_dir: PathBuf,
    /// The owner's user id (the `sub` of their account).
    #[arg(long)]
    owner: String,
    /// The number of the owner's first new photo.
    #[arg(long, default_value_t = 0)]
    from: u64,
    #[arg(long)]
    photos: u64,
}

struct Filler {
    repo: SqliteRepository,
    objects: FileObjectStore,
    ids: UlidGenerator,
}

impl Filler {
    /// Photo number `n` of `owner`: inserted, processed READY, its files on disk.
    async fn photo(&self, owner: &UserId, n: u64) -> Result<PhotoId> {
        let taken = Timestamp::from_millis(T0_MS + n as i64 * 60_000);
        let id = PhotoId::from_ulid(self.ids.next(taken));
        let sha = Sha256::from_bytes(sha2::Sha256::digest(format!("{owner}/{n}")).into());
        let photo = Photo::pending(
            id,
            owner.clone(),
            FileName::parse(&format!("IMG_{n:06}.jpg"))?,
            ContentType::Jpeg,
            TINY_JPEG.len() as u64,
            sha,
            taken,
        );
        self.repo.insert_photo(&photo, u64::MAX / 2).await?;
        for key in ObjectKey::all_for(owner, &id) {
            self.objects.put(key.as_str(), TINY_JPEG, "image/jpeg")?;
        }
        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 16,
                height: 12,
            },
            taken_at: Some(taken),
            taken_offset_minutes: None,
            camera: None,
            gps: None,
            sha256_actual: sha,
            size: TINY_JPEG.len() as u64,
        };
        self.repo
            .finish_processing(owner, &id, &ProcessingOutcome::Ready(info))
            .await?;
        Ok(id)
    }

    /// An album of `photos` with a share link, and a share link of its first photo.
    async fn album(&self, owner: &UserId, n: u64, photos: &[PhotoId]) -> Result<()> {
        let created = Timestamp::from_millis(T0_MS + n as i64 * 60_000);
        let id = AlbumId::from_ulid(self.ids.next(created));
        let name = AlbumName::parse(&format!("Album {n}"))?;
        let album = Album::new(id, owner.clone(), name, created);
        self.repo.insert_album(&album).await?;
        for p in photos {
            self.repo.add_to_album(owner, &album.id, p).await?;
        }
        for target in [ShareTarget::Album(album.id), ShareTarget::Photo(photos[0])] {
            let share = Share {
                token: ShareToken::generate(),
                owner: owner.clone(),
                target,
                created_at: created,
                expires_at: Timestamp::from_millis(i64::MAX / 2),
                password_hash: None,
                revoked: false,
                attempts: Default::default(),
                allow_download: false,
                days: None,
            };
            self.repo.insert_share(&share).await?;
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let owner = UserId::parse(&args.owner).context("--owner is not a user id")?;
    let db = args.data_dir.join("stage.sqlite3");
    let filler = Filler {
        repo: SqliteRepository::open(&db).context("opening the photo table")?,
        objects: FileObjectStore::new(
            args.data_dir.join("objects"),
            "photos-local",
            "http://127.0.0.1",
            Secrets {
                upload: String::new(),
                media: [0; 32],
            },
            None,
        ),
        ids: UlidGenerator::default(),
    };
    let started = Instant::now();
    let mut batch = Vec::new();
    for n in args.from..args.from + args.photos {
        let id = filler.photo(&owner, n).await?;
        if n % 1000 < ALBUM_SIZE {
            batch.push(id);
        }
        if batch.len() as u64 == ALBUM_SIZE {
            filler.album(&owner, n, &batch).await?;
            batch.clear();
        }
        // The other users' tenth, spread over them.
        if n % 10 == 0 {
            let other = UserId::parse(&format!("other-{:02}", (n / 10) % OTHER_USERS))?;
            filler.photo(&other, n).await?;
        }
        if (n + 1) % 10_000 == 0 {
            eprintln!(
                "  {} photos written in {:.0?}",
                n + 1 - args.from,
                started.elapsed()
            );
        }
    }
    Ok(())
}
