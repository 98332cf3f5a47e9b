//! The timeline: the owner's photos by date taken, and how many each month holds, for the
//! scrubber.

use super::{PhotoService, check_limit, start_after};
use crate::error::Result;
use crate::keys;
use crate::model::MonthCount;
use crate::service::{Listing, PhotoView};
use crate::types::UserId;

impl PhotoService {
    /// The owner's photos by date taken ([`crate::Photo::timeline_at`]), newest first.
    pub async fn timeline(
        &self,
        owner: &UserId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<PhotoView>> {
        let limit = check_limit(limit)?;
        let after = start_after(owner, keys::TIMELINE_PREFIX, cursor)?;
        let page = self
            .repo
            .list_timeline(owner, after.as_ref(), limit)
            .await?;
        self.views(owner, page, false).await
    }

    /// How many photos each month of the owner's timeline holds, newest month first.
    pub async fn timeline_months(&self, owner: &UserId) -> Result<Vec<MonthCount>> {
        self.repo.timeline_months(owner).await
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ProcessedInfo;
    use crate::testing::{Fixture, user};
    use crate::types::{Dimensions, Timestamp};

    #[tokio::test]
    async fn the_timeline_pages_by_date_taken_and_its_cursor_is_its_own() {
        let f = Fixture::new();
        let alice = user("alice");
        let mut ids = Vec::new();
        // Taken in 2024, in 2017, and a file with no date (listed at its upload, in 2027).
        for (n, taken_at) in [
            (1, Some(1_717_243_389_000)),
            (2, Some(1_500_000_000_000)),
            (3, None),
        ] {
            let photo = f.start("alice", n, 10).await.unwrap();
            let info = ProcessedInfo {
                dimensions: Dimensions {
                    width: 4,
                    height: 3,
                },
                taken_at: taken_at.map(Timestamp::from_millis),
                taken_offset_minutes: None,
                camera: None,
                gps: None,
                sha256_actual: photo.sha256_declared,
                size: 10,
            };
            f.service
                .complete_processing(&alice, &photo.id, info)
                .await
                .unwrap();
            ids.push(photo.id);
        }
        let first = f.service.timeline(&alice, None, 2).await.unwrap();
        let order: Vec<_> = first.items.iter().map(|v| v.photo.id).collect();
        assert_eq!(order, vec![ids[2], ids[0]]);
        let cursor = first.next_cursor.expect("a second page");
        let second = f.service.timeline(&alice, Some(&cursor), 2).await.unwrap();
        let order: Vec<_> = second.items.iter().map(|v| v.photo.id).collect();
        assert_eq!(order, vec![ids[1]]);
        assert!(second.next_cursor.is_none());
        // The upload-order listing's cursor is not the timeline's, and no cursor is another's.
        let by_upload = f.service.list_photos(&alice, None, 1).await.unwrap();
        let theirs = by_upload.next_cursor.unwrap();
        assert!(f.service.timeline(&alice, Some(&theirs), 2).await.is_err());
        assert!(
            f.service
                .timeline(&user("bob"), Some(&cursor), 2)
                .await
                .is_err()
        );
        let months = f.service.timeline_months(&alice).await.unwrap();
        let months: Vec<_> = months
            .iter()
            .map(|m| (m.month.as_str(), m.photos))
            .collect();
        assert_eq!(months, vec![("2027-01", 1), ("2024-06", 1), ("2017-07", 1)]);
    }
}
