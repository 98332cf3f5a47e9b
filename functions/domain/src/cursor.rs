//! Opaque pagination cursors, bound to the user and the listing they came from.
//!
//! A cursor carries the owner's id and the sort key where the previous page stopped. On the way
//! back in, the owner must be the caller and the key must lie inside the listing's key prefix, so a
//! cursor edited to point at another user's data, or at another listing, is refused. Repositories
//! only ever query the caller's own partition anyway; this check makes the refusal explicit (400)
//! instead of silently serving the caller's own data from a strange place.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::SortKey;
use crate::types::UserId;

#[derive(Serialize, Deserialize)]
struct Wire {
    u: String,
    k: String,
}

/// Encodes where a listing of `owner` stopped.
pub fn encode(owner: &UserId, key: &SortKey) -> String {
    let wire = Wire {
        u: owner.as_str().to_owned(),
        k: key.0.clone(),
    };
    // Serializing two strings cannot fail; fall back to an empty cursor rather than panic.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
}

/// Decodes a cursor for `caller`'s listing whose keys start with `prefix`.
pub fn decode(caller: &UserId, prefix: &str, cursor: &str) -> Result<SortKey> {
    if cursor.len() > 512 {
        return Err(Error::InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| Error::InvalidCursor)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor)?;
    let key_ok = wire.k.len() > prefix.len()
        && wire.k.starts_with(prefix)
        && wire
            .k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'#' || b == b'-' || b == b'_');
    if wire.u != caller.as_str() || !key_ok {
        return Err(Error::InvalidCursor);
    }
    Ok(SortKey(wire.k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn check(caller: &str, prefix: &str, cursor: &str, expected: Option<&str>) {
        let got = decode(&user(caller), prefix, cursor).ok().map(|k| k.0);
        assert_eq!(got.as_deref(), expected);
    }

    #[test]
    fn cursors_round_trip_for_their_owner_only() {
        let key = SortKey("PHOTO#01ARZ3NDEKTSV4RRFFQ69G5FAV".into());
        let c = encode(&user("alice"), &key);
        check(
            "alice",
            "PHOTO#",
            &c,
            Some("PHOTO#01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        );
        check("bob", "PHOTO#", &c, None);
        check("alice", "ALBUM#", &c, None);
    }

    #[test]
    fn forged_and_garbage_cursors_are_refused() {
        let forged = URL_SAFE_NO_PAD.encode(br#"{"u":"alice","k":"PHOTO#x\u0000"}"#);
        check("alice", "PHOTO#", &forged, None);
        check("alice", "PHOTO#", "not base64!", None);
        check("alice", "PHOTO#", &URL_SAFE_NO_PAD.encode(b"[]"), None);
        check("alice", "PHOTO#", &"A".repeat(600), None);
        check(
            "alice",
            "PHOTO#",
            &encode(&user("alice"), &SortKey("PHOTO#".into())),
            None,
        );
    }
}
