//! The HTTP API's routes: what API Gateway routes to the API function (and its JWT authorizer
//! guards), and what the function's router answers.
//!
//! `stack` makes one API Gateway route per [`Endpoint`]; `photo-api` builds its router from the
//! same list, with an exhaustive `match` giving each endpoint its handler, so a route cannot
//! exist on one side only. A test compares both, and the OpenAPI document, with this list.

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as HTTP spells it (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A signed-in user: API Gateway's JWT authorizer checks the access token first (and the
    /// function checks it again).
    SignedIn,
    /// Anyone: public share pages and the API's own description.
    Public,
}

/// One route: a method on a path template (`{id}` is a path parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

impl Route {
    /// API Gateway's route key: `GET /photos/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

macro_rules! endpoints {
    ($($(#[$doc:meta])* $name:ident => $method:ident $path:literal $access:ident,)*) => {
        /// Every operation of the HTTP API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Endpoint {
            $($(#[$doc])* $name,)*
        }

        impl Endpoint {
            /// Every endpoint, in the order the template lists their routes.
            pub const ALL: &[Endpoint] = &[$(Endpoint::$name,)*];

            /// The endpoint's route.
            pub const fn route(self) -> Route {
                match self {
                    $(Endpoint::$name => Route {
                        method: Method::$method,
                        path: $path,
                        access: Access::$access,
                    },)*
                }
            }
        }
    };
}

endpoints! {
    /// Reserve a photo and get the form that uploads its original.
    StartUpload => Post "/photos/uploads" SignedIn,
    /// A page of the caller's photos.
    ListPhotos => Get "/photos" SignedIn,
    /// A page of the caller's photos by date taken.
    Timeline => Get "/photos/timeline" SignedIn,
    /// How many photos each month of the caller's timeline holds.
    TimelineMonths => Get "/photos/timeline/months" SignedIn,
    /// One photo with its links.
    GetPhoto => Get "/photos/{id}" SignedIn,
    /// Change a photo's title or favourite mark.
    PatchPhoto => Patch "/photos/{id}" SignedIn,
    /// Delete a photo and its files.
    DeletePhoto => Delete "/photos/{id}" SignedIn,
    /// Favourite, unfavourite, delete or add to an album up to 100 photos at once.
    BatchPhotos => Post "/photos/batch" SignedIn,
    /// Create an album.
    CreateAlbum => Post "/albums" SignedIn,
    /// A page of the caller's albums.
    ListAlbums => Get "/albums" SignedIn,
    /// One album.
    GetAlbum => Get "/albums/{id}" SignedIn,
    /// Rename an album.
    RenameAlbum => Patch "/albums/{id}" SignedIn,
    /// Delete an album (its photos stay).
    DeleteAlbum => Delete "/albums/{id}" SignedIn,
    /// A page of an album's photos.
    ListAlbumPhotos => Get "/albums/{id}/photos" SignedIn,
    /// Put a photo in an album.
    AddAlbumPhoto => Put "/albums/{id}/photos/{photo_id}" SignedIn,
    /// Take a photo out of an album.
    RemoveAlbumPhoto => Delete "/albums/{id}/photos/{photo_id}" SignedIn,
    /// Share a photo or an album through a link.
    CreateShare => Post "/shares" SignedIn,
    /// The caller's share links.
    ListShares => Get "/shares" SignedIn,
    /// Revoke a share link.
    RevokeShare => Delete "/shares/{token}" SignedIn,
    /// The caller's identity and storage use.
    Me => Get "/me" SignedIn,
    /// Set or remove the caller's display name.
    UpdateMe => Patch "/me" SignedIn,
    /// Open a share link.
    OpenShare => Get "/public/shares/{token}" Public,
    /// Open a password-protected share link.
    OpenShareWithPassword => Post "/public/shares/{token}" Public,
    /// A link to download one photo's original from a share that allows it.
    DownloadShared => Post "/public/shares/{token}/download" Public,
    /// The OpenAPI document of this API.
    OpenApi => Get "/openapi.json" Public,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_well_formed() {
        let mut keys: Vec<String> = Endpoint::ALL.iter().map(|e| e.route().key()).collect();
        for key in &keys {
            let path = key.split_once(' ').unwrap().1;
            assert!(path.starts_with('/') && !path.ends_with('/'), "{key}");
        }
        let before = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), before, "a route is listed twice");
    }

    #[test]
    fn the_key_is_method_space_path() {
        assert_eq!(Endpoint::GetPhoto.route().key(), "GET /photos/{id}");
    }
}
