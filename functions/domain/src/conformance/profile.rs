//! Profiles: a user's display name, set, replaced and removed, and nobody else's.

use super::Suite;
use crate::keys;
use crate::types::DisplayName;

impl Suite<'_> {
    pub(super) async fn display_names(&self) {
        let alice = self.user("prof");
        let bob = self.user("prof-bob");
        let repo = &self.repo;
        assert_eq!(repo.get_display_name(&alice).await.unwrap(), None);
        let name = DisplayName::parse("Alice B.").unwrap();
        repo.set_display_name(&alice, Some(&name)).await.unwrap();
        assert_eq!(repo.get_display_name(&alice).await.unwrap(), Some(name));
        assert_eq!(repo.get_display_name(&bob).await.unwrap(), None);
        let other = DisplayName::parse("Ali").unwrap();
        repo.set_display_name(&alice, Some(&other)).await.unwrap();
        assert_eq!(repo.get_display_name(&alice).await.unwrap(), Some(other));
        assert_eq!(self.sort_keys(&alice).await, vec![keys::PROFILE_SK]);
        repo.set_display_name(&alice, None).await.unwrap();
        repo.set_display_name(&alice, None)
            .await
            .expect("removing what is not there is not an error");
        assert_eq!(repo.get_display_name(&alice).await.unwrap(), None);
        assert!(
            self.sort_keys(&alice).await.is_empty(),
            "nothing left behind"
        );
    }
}
