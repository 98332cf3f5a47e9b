//! What an album says of its photos (count, cover, dates), kept with every change of its
//! photos: each change reads the album, applies the domain's rule ([`Album::joined`],
//! [`Album::left`]) and writes the album in the same transaction as the membership, on the
//! condition that the album's `revision` is still the one read; a change that lost a race reads
//! again. Albums written before they kept these have no `photo_count`: the first change counts
//! them from their members, and the deployer's backfill counts the rest.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};

use photo_domain::keys;
use photo_domain::{
    Album, AlbumId, Error, Photo, PhotoId, Repository as _, Result, ShareTarget, Timestamp, UserId,
};

use super::DynamoDbRepository;
use super::calls::build;
use super::encoding::{
    ABSENT, EXISTS, check_exists, delete_item, key, n, put_item, s, with_layout,
};
use super::repository::{decode_all, set_and_remove, set_or_remove};
use crate::item::{Attributes, decode, string, value_of};

/// The attribute counting the changes of an album's contents, for the optimistic condition.
pub(super) const REVISION: &str = "revision";

/// How often a change of an album is tried while other changes win the race.
const ATTEMPTS: u32 = 5;

/// An album as read: its record, its revision (none before albums kept one) and whether it
/// predates its contents being kept (no `photo_count`).
struct Read {
    album: Album,
    revision: Option<u64>,
    older: bool,
}

/// A transaction item checking that the photo is still in the state it was read in.
fn photo_as_read(table: &str, key: Attributes, photo: &Photo) -> Result<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .condition_expression(format!("{EXISTS} AND #status = :status"))
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":status", s(photo.status.as_str()))
        .build();
    Ok(TransactWriteItem::builder()
        .condition_check(build("a condition check", check)?)
        .build())
}

fn lost_race(album: &AlbumId) -> Error {
    Error::Conflict(format!("album `{album}` kept changing; try again"))
}

impl DynamoDbRepository {
    async fn read_album(&self, owner: &UserId, album: &AlbumId) -> Result<Option<Read>> {
        let item = self
            .get(key(keys::user_pk(owner), keys::album_sk(album)), true)
            .await?;
        item.map(|item| {
            Ok(Read {
                album: decode(&item)?,
                revision: item
                    .get(REVISION)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok()),
                older: !item.contains_key("photo_count"),
            })
        })
        .transpose()
    }

    async fn is_member(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<bool> {
        let member = key(keys::user_pk(owner), keys::member_sk(album, photo));
        Ok(self.get(member, true).await?.is_some())
    }

    /// The album's photos by id, but `leaving`.
    async fn members_but(
        &self,
        owner: &UserId,
        album: &AlbumId,
        leaving: Option<&PhotoId>,
    ) -> Result<Vec<Photo>> {
        let pk = keys::user_pk(owner);
        let mut keys_of = Vec::new();
        for member in self.query_all(&pk, &keys::member_prefix(album)).await? {
            let photo = PhotoId::parse(string(&member, "photo")?)?;
            if Some(&photo) != leaving {
                keys_of.push(key(pk.clone(), keys::photo_sk(&photo)));
            }
        }
        decode_all(&self.batch_get(keys_of, true).await?)
    }

    /// A transaction item writing the album's contents, only while its revision is `seen`.
    fn album_update(&self, album: &Album, seen: Option<u64>) -> Result<TransactWriteItem> {
        let mut names = HashMap::from([("#revision".to_owned(), REVISION.to_owned())]);
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":next".to_owned(), n(seen.unwrap_or(0) + 1)),
            (":count".to_owned(), n(album.photo_count)),
            (
                ":chosen".to_owned(),
                AttributeValue::Bool(album.cover_chosen),
            ),
        ]);
        let mut set = vec![
            "#revision = :next".to_owned(),
            "photo_count = :count".to_owned(),
            "cover_chosen = :chosen".to_owned(),
        ];
        let mut remove = Vec::new();
        let fields = [
            ("cover", album.cover.as_ref().map(value_of).transpose()?),
            (
                "taken_from",
                album.taken_from.as_ref().map(value_of).transpose()?,
            ),
            (
                "taken_until",
                album.taken_until.as_ref().map(value_of).transpose()?,
            ),
        ];
        for (name, value) in fields {
            set_or_remove(&mut names, &mut values, &mut set, &mut remove, name, value);
        }
        let condition = match seen {
            Some(seen) => {
                values.insert(":seen".to_owned(), n(seen));
                format!("{EXISTS} AND #revision = :seen")
            }
            None => format!("{EXISTS} AND attribute_not_exists(#revision)"),
        };
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::user_pk(&album.owner),
                keys::album_sk(&album.id),
            )))
            .update_expression(set_and_remove(&set, &remove))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build();
        Ok(TransactWriteItem::builder()
            .update(build("an album update", update)?)
            .build())
    }

    /// [`photo_domain::Repository::add_to_album`].
    pub(super) async fn add_member(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        for _ in 0..ATTEMPTS {
            let Some(Read {
                album: mut a,
                revision,
                older,
            }) = self.read_album(owner, album).await?
            else {
                return Err(Error::NotFound);
            };
            let Some(joining) = self.get_photo(owner, photo).await? else {
                return Err(Error::NotFound);
            };
            if self.is_member(owner, album, photo).await? {
                return Ok(());
            }
            if older {
                a.recount(&self.members_but(owner, album, None).await?);
            }
            a.joined(&joining);
            let pk = keys::user_pk(owner);
            let member = HashMap::from([
                ("owner".to_owned(), s(owner.as_str())),
                ("album".to_owned(), s(album.to_string())),
                ("photo".to_owned(), s(photo.to_string())),
                (
                    "gsi1pk".to_owned(),
                    s(keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo))),
                ),
                ("gsi1sk".to_owned(), s(keys::member_gsi1sk(album))),
            ]);
            let member = with_layout(member, pk.clone(), keys::member_sk(album, photo), "MEMBER");
            let items = vec![
                put_item("the membership put", &self.table, member, Some(ABSENT))?,
                // Still as read: processing that finished meanwhile has a date to count.
                photo_as_read(&self.table, key(pk, keys::photo_sk(photo)), &joining)?,
                self.album_update(&a, revision)?,
            ];
            if self
                .transact("adding to an album", items, |_| Some(()))
                .await?
                .is_ok()
            {
                return Ok(());
            }
        }
        Err(lost_race(album))
    }

    /// [`photo_domain::Repository::remove_from_album`].
    pub(super) async fn remove_member(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        for _ in 0..ATTEMPTS {
            if !self.is_member(owner, album, photo).await? {
                return Err(Error::NotFound);
            }
            let update = match self.get_photo(owner, photo).await? {
                Some(leaving) => self.album_without(owner, album, &leaving).await?,
                // A membership whose photo is gone: the album counted anew.
                None => match self.read_album(owner, album).await? {
                    Some(Read {
                        album: mut a,
                        revision,
                        ..
                    }) => {
                        a.recount(&self.members_but(owner, album, Some(photo)).await?);
                        Some(self.album_update(&a, revision)?)
                    }
                    None => None,
                },
            };
            let member = key(keys::user_pk(owner), keys::member_sk(album, photo));
            let mut items = vec![delete_item(
                "the membership delete",
                &self.table,
                member,
                Some(EXISTS),
            )?];
            items.extend(update);
            let done = self.transact("removing from an album", items, |_| Some(()));
            if done.await?.is_ok() {
                return Ok(());
            }
        }
        Err(lost_race(album))
    }

    /// A transaction item writing `album` as it is once `photo` left it (beside the
    /// membership's delete, which the caller adds); `None` if the album is gone.
    pub(super) async fn album_without(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &Photo,
    ) -> Result<Option<TransactWriteItem>> {
        let Some(Read {
            album: mut a,
            revision,
            older,
        }) = self.read_album(owner, album).await?
        else {
            return Ok(None);
        };
        if older || a.leaving_needs_members(photo) {
            let others = self.members_but(owner, album, Some(&photo.id)).await?;
            if older {
                a.recount(&others);
            } else {
                a.left(photo, &others);
            }
        } else {
            a.left(photo, &[]);
        }
        Ok(Some(self.album_update(&a, revision)?))
    }

    /// [`photo_domain::Repository::set_album_cover`].
    pub(super) async fn choose_cover(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        for _ in 0..ATTEMPTS {
            let Some(Read {
                album: mut a,
                revision,
                older,
            }) = self.read_album(owner, album).await?
            else {
                return Err(Error::NotFound);
            };
            if !self.is_member(owner, album, photo).await? {
                return Err(Error::NotFound);
            }
            if older {
                a.recount(&self.members_but(owner, album, None).await?);
            }
            a.cover = Some(*photo);
            a.cover_chosen = true;
            let member = key(keys::user_pk(owner), keys::member_sk(album, photo));
            let items = vec![
                check_exists(&self.table, member)?,
                self.album_update(&a, revision)?,
            ];
            if self
                .transact("choosing a cover", items, |_| Some(()))
                .await?
                .is_ok()
            {
                return Ok(a);
            }
        }
        Err(lost_race(album))
    }

    /// The albums `photo` is in, from its memberships in `gsi1`.
    pub(super) async fn albums_of(&self, owner: &UserId, photo: &PhotoId) -> Result<Vec<AlbumId>> {
        let target = keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo));
        let mut albums = Vec::new();
        for item in self.query_gsi1(&target).await? {
            if string(&item, "sk")?.starts_with(keys::MEMBER_PREFIX) {
                albums.push(AlbumId::parse(string(&item, "album")?)?);
            }
        }
        Ok(albums)
    }

    /// Widens the albums `photo` is in to its date taken, once processing learned it.
    pub(super) async fn widen_albums(&self, photo: &Photo) -> Result<()> {
        let Some(at) = photo.date_taken() else {
            return Ok(());
        };
        for album in self.albums_of(&photo.owner, &photo.id).await? {
            self.widen_album(photo, &album, at).await?;
        }
        Ok(())
    }

    /// Widens one album `photo` is in to `at`, while the photo is still in it.
    async fn widen_album(&self, photo: &Photo, album: &AlbumId, at: Timestamp) -> Result<()> {
        let owner = &photo.owner;
        for _ in 0..ATTEMPTS {
            // Left meanwhile (the index a moment behind), or the album is gone: nothing to widen.
            if !self.is_member(owner, album, &photo.id).await? {
                return Ok(());
            }
            let Some(Read {
                album: mut a,
                revision,
                older,
            }) = self.read_album(owner, album).await?
            else {
                return Ok(());
            };
            let before = (a.taken_from, a.taken_until);
            if older {
                a.recount(&self.members_but(owner, album, None).await?);
            }
            a.widen(at);
            if !older && (a.taken_from, a.taken_until) == before {
                return Ok(());
            }
            let member = key(keys::user_pk(owner), keys::member_sk(album, &photo.id));
            let items = vec![
                check_exists(&self.table, member)?,
                self.album_update(&a, revision)?,
            ];
            let written = self.transact("dating an album", items, |_| Some(()));
            if written.await?.is_ok() {
                return Ok(());
            }
        }
        // Not a conflict, which processing would take for "finished elsewhere": an error, so
        // that the invocation fails and says so.
        Err(Error::Backend(format!(
            "album `{album}` kept changing while a photo's date was added to it"
        )))
    }

    /// Counts, covers and dates every album written before albums kept them (no
    /// `photo_count`): a `Scan` the deployer runs once per stage, beside the timeline's. An album
    /// that changed meanwhile was counted by that change. The albums counted.
    pub async fn recount_older_albums(&self) -> Result<u64> {
        let mut counted = 0;
        let mut start = None;
        loop {
            let (items, last) = self
                .scan_page(keys::ALBUM_PREFIX, "photo_count", start.take())
                .await?;
            for album in decode_all::<Album>(&items)? {
                let mut a = album.clone();
                a.recount(&self.members_but(&album.owner, &album.id, None).await?);
                let items = vec![self.album_update(&a, None)?];
                if self
                    .transact("counting an album", items, |_| Some(()))
                    .await?
                    .is_ok()
                {
                    counted += 1;
                }
            }
            match last {
                Some(last) => start = Some(last),
                None => return Ok(counted),
            }
        }
    }
}
