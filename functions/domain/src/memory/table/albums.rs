//! Albums' contents in memory: the members of an album, the albums of a photo, and a photo
//! leaving an album, as the repository's writes use them.

use super::{InMemoryRepository, Item, Items, key, prefix_range};
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{Album, Photo, ShareTarget};
use crate::types::{AlbumId, PhotoId, UserId};

impl InMemoryRepository {
    pub(super) fn album_mut<'a>(
        items: &'a mut Items,
        owner: &UserId,
        id: &AlbumId,
    ) -> Option<&'a mut Album> {
        match items.get_mut(&key(keys::user_pk(owner), keys::album_sk(id))) {
            Some(Item::Album(a)) => Some(a),
            _ => None,
        }
    }

    /// The album's photos, by id.
    pub(super) fn members_of(items: &Items, owner: &UserId, album: &AlbumId) -> Vec<Photo> {
        let pk = keys::user_pk(owner);
        items
            .range(prefix_range(&pk, &keys::member_prefix(album)))
            .filter_map(|(_, i)| match i {
                Item::Member { photo, .. } => Self::photo_of(items, owner, photo),
                _ => None,
            })
            .collect()
    }

    /// Takes the photo out of the album and says so in the album's counts, cover and dates.
    pub(super) fn leave(
        items: &mut Items,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        let member = key(keys::user_pk(owner), keys::member_sk(album, photo));
        if items.remove(&member).is_none() {
            return Err(Error::NotFound);
        }
        let leaving = Self::photo_of(items, owner, photo);
        let others = Self::members_of(items, owner, album);
        if let Some(a) = Self::album_mut(items, owner, album) {
            match leaving {
                Some(leaving) => a.left(&leaving, &others),
                // A membership whose photo is gone: the album counted anew.
                None => a.recount(&others),
            }
        }
        Ok(())
    }

    /// The albums `photo` is in, from its memberships' `gsi1pk`.
    pub(super) fn albums_of(items: &Items, owner: &UserId, photo: &PhotoId) -> Vec<AlbumId> {
        let gsi = keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo));
        items
            .values()
            .filter(|i| i.gsi1pk().as_deref() == Some(gsi.as_str()))
            .filter_map(|i| match i {
                Item::Member { album, .. } => Some(*album),
                _ => None,
            })
            .collect()
    }
}
