//! The timeline: photos by date taken (else by upload), and the month counts every write keeps.

use super::{Suite, kind};
use crate::model::{Photo, ProcessedInfo, ProcessingOutcome};
use crate::types::{Dimensions, Timestamp, UserId};

/// 2019-03-10T08:00:00Z.
const MARCH_2019: i64 = 1_552_204_800_000;
/// 2019-03-31T23:30:00Z: 01:30 on 1 April where it was taken (UTC+2).
const END_OF_MARCH_2019: i64 = 1_554_075_000_000;
/// 1965-05-01T12:00:00Z: before the Unix epoch (a scanned print).
const MAY_1965: i64 = -147_355_200_000;

pub(super) fn ready(photo: &Photo, taken_at: i64, offset: Option<i16>) -> ProcessingOutcome {
    ProcessingOutcome::Ready(ProcessedInfo {
        dimensions: Dimensions {
            width: 3,
            height: 2,
        },
        taken_at: Some(Timestamp::from_millis(taken_at)),
        taken_offset_minutes: offset,
        camera: None,
        gps: None,
        sha256_actual: photo.sha256_declared,
        size: photo.size,
    })
}

impl Suite<'_> {
    async fn months(&self, owner: &UserId) -> Vec<(String, u64)> {
        let months = self.repo.timeline_months(owner).await.unwrap();
        months.into_iter().map(|m| (m.month, m.photos)).collect()
    }

    pub(super) async fn finish(&self, photo: &Photo, outcome: &ProcessingOutcome) {
        let repo = &self.repo;
        repo.start_processing(&photo.owner, &photo.id, 3)
            .await
            .expect("takes an attempt");
        repo.finish_processing(&photo.owner, &photo.id, outcome)
            .await
            .expect("finishes");
    }

    pub(super) async fn timeline_by_date_taken_with_month_counts(&self) {
        let alice = self.user("tl");
        let bob = self.user("tl-bob");
        let repo = &self.repo;
        let photos: Vec<Photo> = (0..5).map(|n| self.photo(&alice, 40 + n, 1)).collect();
        for p in &photos {
            self.insert(p, 1000).await;
        }
        let bobs = self.photo(&bob, 40, 1);
        self.insert(&bobs, 1000).await;
        // A refused insert counts nothing.
        let mut again = self.photo(&alice, 40, 1);
        again.sha256_declared = photos[0].sha256_declared;
        assert!(kind(&repo.insert_photo(&again, 1000).await).starts_with("Duplicate"));
        // Every upload starts in its upload's month (T0 is 2026-09-21).
        assert_eq!(self.months(&alice).await, vec![("2026-09".into(), 5)]);

        // photos[0] stays PENDING; [1] was taken in March 2019 (UTC+1); [2] on 1 April 2019 in
        // UTC+2, which is still March in UTC; [3] failed processing and stays at its upload;
        // [4] in 1965.
        self.finish(&photos[1], &ready(&photos[1], MARCH_2019, Some(60)))
            .await;
        self.finish(&photos[2], &ready(&photos[2], END_OF_MARCH_2019, Some(120)))
            .await;
        let failed = ProcessingOutcome::Failed {
            reason: "not an image".into(),
            actual: None,
        };
        self.finish(&photos[3], &failed).await;
        self.finish(&photos[4], &ready(&photos[4], MAY_1965, None))
            .await;
        let expected = vec![
            ("2026-09".into(), 2),
            ("2019-04".into(), 1),
            ("2019-03".into(), 1),
            ("1965-05".into(), 1),
        ];
        assert_eq!(self.months(&alice).await, expected);
        assert_eq!(self.months(&bob).await, vec![("2026-09".into(), 1)]);

        // Newest first, ties (the two at their upload time) by id, newest first; pages of two.
        let order = [3, 0, 2, 1, 4].map(|i| photos[i].id);
        let mut seen = Vec::new();
        let mut after = None;
        for _ in 0..4 {
            let page = repo.list_timeline(&alice, after.as_ref(), 2).await.unwrap();
            seen.extend(page.items.iter().map(|p| p.id));
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        assert_eq!(seen, order, "the whole timeline, once, in order");
        let whole = repo.list_timeline(&alice, None, 10).await.unwrap();
        assert_eq!(whole.next, None, "no next page after the last photo");
        assert_eq!(whole.items[2].taken_offset_minutes, Some(120));
        let bobs_timeline = repo.list_timeline(&bob, None, 10).await.unwrap();
        assert_eq!(
            bobs_timeline.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![bobs.id]
        );

        // Removing photos takes them off their month; an emptied month is not listed.
        repo.delete_photo(&alice, &photos[2].id).await.unwrap();
        repo.remove_abandoned(&alice, &photos[0].id).await.unwrap();
        let expected = vec![
            ("2026-09".into(), 1),
            ("2019-03".into(), 1),
            ("1965-05".into(), 1),
        ];
        assert_eq!(self.months(&alice).await, expected);
        let left = repo.list_timeline(&alice, None, 10).await.unwrap();
        let left: Vec<_> = left.items.iter().map(|p| p.id).collect();
        assert_eq!(left, [3, 1, 4].map(|i| photos[i].id));
        for p in [&photos[1], &photos[3], &photos[4]] {
            repo.delete_photo(&alice, &p.id).await.unwrap();
        }
        assert_eq!(self.months(&alice).await, Vec::<(String, u64)>::new());
        assert!(
            repo.list_timeline(&alice, None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}
