//! What a user chose to be shown by: the display name a share's guest sees as "shared by".
//!
//! It is a profile field of its own, never derived from the e-mail address: a guest of a link
//! learns only what the owner chose to show, and nothing when they chose nothing.

use super::PhotoService;
use crate::error::Result;
use crate::types::{DisplayName, UserId};

impl PhotoService {
    /// The owner's display name, if they chose one.
    pub async fn display_name(&self, owner: &UserId) -> Result<Option<DisplayName>> {
        self.repo.get_display_name(owner).await
    }

    /// Sets the owner's display name (surrounding spaces dropped, 1 to 60 characters), or with
    /// `None` removes it; the name as stored.
    pub async fn set_display_name(
        &self,
        owner: &UserId,
        name: Option<&str>,
    ) -> Result<Option<DisplayName>> {
        let name = name.map(|n| DisplayName::parse(n.trim())).transpose()?;
        self.repo.set_display_name(owner, name.as_ref()).await?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ShareTarget;
    use crate::testing::{Fixture, user};

    #[tokio::test]
    async fn a_guest_sees_the_name_the_owner_chose_and_nothing_else() {
        let f = Fixture::new();
        let alice = user("alice");
        let photo = f.ready("alice", 1, 10).await;
        let share = f
            .service
            .create_share(&alice, ShareTarget::Photo(photo.id), None, None)
            .await
            .unwrap();
        let shared_by = async || {
            f.service
                .open_share(&share.token, None)
                .await
                .unwrap()
                .shared_by
        };
        assert_eq!(shared_by().await, None, "no name chosen: none shown");
        let set = f
            .service
            .set_display_name(&alice, Some("  Alice B.  "))
            .await;
        assert_eq!(set.unwrap().unwrap().as_str(), "Alice B.");
        assert_eq!(shared_by().await.unwrap().as_str(), "Alice B.");
        // Bad names are refused and change nothing.
        for bad in ["", "   ", &"x".repeat(61), "a\u{0}b"] {
            assert!(
                f.service.set_display_name(&alice, Some(bad)).await.is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(shared_by().await.unwrap().as_str(), "Alice B.");
        // Each user's own.
        assert_eq!(f.service.display_name(&user("bob")).await.unwrap(), None);
        f.service.set_display_name(&alice, None).await.unwrap();
        assert_eq!(shared_by().await, None);
    }
}
