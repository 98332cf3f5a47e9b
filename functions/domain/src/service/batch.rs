//! Acting on a selection: up to [`MAX_BATCH`] of the owner's photos in one call, each id checked
//! and answered on its own, so that acting on 200 photos is two calls, not 200 inside the API's
//! throttle.

use futures_util::{StreamExt as _, stream};

use super::PhotoService;
use crate::error::{Error, Result};
use crate::ports::PhotoPatch;
use crate::types::{AlbumId, PhotoId, UserId};

/// The most photos one batch acts on.
pub const MAX_BATCH: usize = 100;

/// How many of a batch's photos are favourited at once. Adding to an album and deleting go one
/// photo after another: each changes the album's count, cover and dates (one item, written on
/// the condition that nothing else changed it since it was read), and eight writers of one
/// album at once would mostly lose that race and read again.
const AT_ONCE: usize = 8;

/// What a batch does to each photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAction {
    /// Marks or unmarks each photo a favourite.
    Favourite(bool),
    /// Deletes each photo as [`PhotoService::delete_photo`] does.
    Delete,
    /// Puts each photo in the album (already there is not an error).
    AddToAlbum(AlbumId),
}

impl PhotoService {
    /// Applies `action` to each of `ids` (in order, each once), as the owner: a photo that is not
    /// the owner's fails with [`Error::NotFound`] like one that does not exist, and the others
    /// are still acted on. Refused as a whole, before anything changes: no ids, more than
    /// [`MAX_BATCH`], or an album that is not the owner's.
    pub async fn batch(
        &self,
        owner: &UserId,
        action: &BatchAction,
        ids: &[PhotoId],
    ) -> Result<Vec<(PhotoId, Result<()>)>> {
        let mut unique: Vec<PhotoId> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(id) {
                unique.push(*id);
            }
        }
        if unique.is_empty() || unique.len() > MAX_BATCH {
            return Err(Error::invalid(
                "ids",
                format!(
                    "expected 1 to {MAX_BATCH} distinct photo ids, got {}",
                    unique.len()
                ),
            ));
        }
        if let BatchAction::AddToAlbum(album) = action {
            self.get_album(owner, album).await?;
        }
        let at_once = match action {
            BatchAction::Favourite(_) => AT_ONCE,
            BatchAction::Delete | BatchAction::AddToAlbum(_) => 1,
        };
        let results = stream::iter(unique)
            .map(|id| async move { (id, self.act(owner, action, &id).await) })
            .buffered(at_once)
            .collect()
            .await;
        Ok(results)
    }

    async fn act(&self, owner: &UserId, action: &BatchAction, id: &PhotoId) -> Result<()> {
        match action {
            BatchAction::Favourite(favourite) => {
                let patch = PhotoPatch {
                    title: None,
                    favourite: Some(*favourite),
                };
                self.repo.update_photo(owner, id, &patch).await.map(drop)
            }
            BatchAction::Delete => self.delete_photo(owner, id).await,
            BatchAction::AddToAlbum(album) => self.repo.add_to_album(owner, album, id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fixture, user};
    use crate::types::{AlbumName, Timestamp};
    use crate::{Photo, Repository as _};

    fn fixture() -> Fixture {
        Fixture::new()
    }

    impl Fixture {
        async fn photo(&self, owner: &str, n: u8) -> PhotoId {
            self.start(owner, n, 10).await.unwrap().id
        }

        async fn stored(&self, owner: &str, id: &PhotoId) -> Option<Photo> {
            self.repo.get_photo(&user(owner), id).await.unwrap()
        }
    }

    fn outcomes(results: &[(PhotoId, Result<()>)]) -> Vec<(PhotoId, String)> {
        results
            .iter()
            .map(|(id, r)| {
                let outcome = match r {
                    Ok(()) => "ok".to_owned(),
                    Err(Error::NotFound) => "not found".to_owned(),
                    Err(e) => format!("{e}"),
                };
                (*id, outcome)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_batch_acts_on_the_callers_photos_and_reports_each_of_the_others() {
        let f = fixture();
        let (alice, bob) = (user("alice"), user("bob"));
        let (p1, p2) = (f.photo("alice", 1).await, f.photo("alice", 2).await);
        let bobs = f.photo("bob", 1).await;

        let favourite = BatchAction::Favourite(true);
        let done = f
            .service
            .batch(&alice, &favourite, &[p1, bobs, p2, p1])
            .await
            .unwrap();
        assert_eq!(
            outcomes(&done),
            [
                (p1, "ok".to_owned()),
                (bobs, "not found".to_owned()),
                (p2, "ok".to_owned())
            ],
            "in order, each once; another's photo is not found"
        );
        assert!(f.stored("alice", &p1).await.unwrap().favourite);
        assert!(!f.stored("bob", &bobs).await.unwrap().favourite);

        // Into alice's album: hers go in, bob's does not; bob's album is refused as a whole.
        let album = f
            .service
            .create_album(&alice, AlbumName::parse("Trip").unwrap())
            .await
            .unwrap();
        let bobs_album = f
            .service
            .create_album(&bob, AlbumName::parse("Bob's").unwrap())
            .await
            .unwrap();
        let refused = f
            .service
            .batch(&alice, &BatchAction::AddToAlbum(bobs_album.id), &[p1])
            .await;
        assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
        let done = f
            .service
            .batch(&alice, &BatchAction::AddToAlbum(album.id), &[p1, bobs])
            .await
            .unwrap();
        assert_eq!(outcomes(&done)[1], (bobs, "not found".to_owned()));
        let members = f
            .service
            .list_album_photos(&alice, &album.id, None, 10)
            .await
            .unwrap();
        let ids: Vec<PhotoId> = members.items.iter().map(|v| v.photo.id).collect();
        assert_eq!(ids, [p1]);

        let done = f
            .service
            .batch(&alice, &BatchAction::Delete, &[bobs, p2])
            .await
            .unwrap();
        assert_eq!(
            outcomes(&done),
            [(bobs, "not found".to_owned()), (p2, "ok".to_owned())]
        );
        assert!(f.stored("alice", &p2).await.is_none());
        assert!(f.stored("bob", &bobs).await.is_some(), "bob's photo stays");
    }

    #[tokio::test]
    async fn a_batch_of_none_or_too_many_changes_nothing() {
        let f = fixture();
        let alice = user("alice");
        let p1 = f.photo("alice", 1).await;
        let refused = f
            .service
            .batch(&alice, &BatchAction::Favourite(false), &[])
            .await;
        assert!(
            matches!(&refused, Err(Error::Invalid { field: "ids", .. })),
            "{refused:?}"
        );
        let ids = crate::types::UlidGenerator::default();
        let mut many: Vec<PhotoId> = (0..MAX_BATCH)
            .map(|_| PhotoId::from_ulid(ids.next(Timestamp::from_secs(1_800_000_000))))
            .collect();
        many.push(p1);
        let refused = f.service.batch(&alice, &BatchAction::Delete, &many).await;
        let Err(Error::Invalid { field, reason }) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(
            (field, reason.as_str()),
            ("ids", "expected 1 to 100 distinct photo ids, got 101")
        );
        assert!(
            f.stored("alice", &p1).await.is_some(),
            "nothing was deleted"
        );
    }
}
