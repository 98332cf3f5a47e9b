//! Client-side routes: parsing a location path into a [`Route`] and back.

/// A page of the app. The server answers every one of these paths with `index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Gallery,
    Albums,
    Album(String),
    /// A photo in the lightbox, over the timeline.
    Photo(String),
    /// A photo in the lightbox, over its album: `(album, photo)`.
    AlbumPhoto(String, String),
    Shares,
    PublicShare(String),
    /// A shared photo in the lightbox, over its share page: `(token, photo)`.
    SharedPhoto(String, String),
    SignIn,
    SignUp,
    Confirm,
    Reset,
    NotFound(String),
}

impl Route {
    /// The route for a location path (the query and fragment already removed).
    pub fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Route::Gallery,
            ["albums"] => Route::Albums,
            ["albums", id] if valid_id(id) => Route::Album((*id).to_owned()),
            ["photos", id] if valid_id(id) => Route::Photo((*id).to_owned()),
            ["albums", album, "photos", id] if valid_id(album) && valid_id(id) => {
                Route::AlbumPhoto((*album).to_owned(), (*id).to_owned())
            }
            ["shares"] => Route::Shares,
            ["s", token] if valid_id(token) => Route::PublicShare((*token).to_owned()),
            ["s", token, id] if valid_id(token) && valid_id(id) => {
                Route::SharedPhoto((*token).to_owned(), (*id).to_owned())
            }
            ["signin"] => Route::SignIn,
            ["signup"] => Route::SignUp,
            ["confirm"] => Route::Confirm,
            ["reset"] => Route::Reset,
            _ => Route::NotFound(path.to_owned()),
        }
    }

    /// The path of this route.
    pub fn path(&self) -> String {
        match self {
            Route::Gallery => "/".into(),
            Route::Albums => "/albums".into(),
            Route::Album(id) => format!("/albums/{id}"),
            Route::Photo(id) => format!("/photos/{id}"),
            Route::AlbumPhoto(album, id) => format!("/albums/{album}/photos/{id}"),
            Route::Shares => "/shares".into(),
            Route::PublicShare(token) => format!("/s/{token}"),
            Route::SharedPhoto(token, id) => format!("/s/{token}/{id}"),
            Route::SignIn => "/signin".into(),
            Route::SignUp => "/signup".into(),
            Route::Confirm => "/confirm".into(),
            Route::Reset => "/reset".into(),
            Route::NotFound(path) => path.clone(),
        }
    }

    /// Whether the page needs a signed-in user.
    pub fn needs_session(&self) -> bool {
        matches!(
            self,
            Route::Gallery
                | Route::Albums
                | Route::Album(_)
                | Route::Photo(_)
                | Route::AlbumPhoto(..)
                | Route::Shares
        )
    }

    /// The window's title on this page (a page that loads a name refines it).
    pub fn title(&self) -> String {
        let page = match self {
            Route::Gallery | Route::Photo(_) => "Your photos",
            Route::Albums => "Albums",
            Route::Album(_) | Route::AlbumPhoto(..) => "Album",
            Route::Shares => "Shared links",
            Route::PublicShare(_) | Route::SharedPhoto(..) => "Shared with you",
            Route::SignIn => "Sign in",
            Route::SignUp => "Create an account",
            Route::Confirm => "Confirm your account",
            Route::Reset => "Reset your password",
            Route::NotFound(_) => "Page not found",
        };
        titled(page)
    }

    /// The page under this route: what a photo's lightbox opens over (the timeline or its
    /// album); every other route is its own page.
    pub fn page(&self) -> Route {
        match self {
            Route::Photo(_) => Route::Gallery,
            Route::AlbumPhoto(album, _) => Route::Album(album.clone()),
            Route::SharedPhoto(token, _) => Route::PublicShare(token.clone()),
            other => other.clone(),
        }
    }

    /// The photo the lightbox shows on this route, if any.
    pub fn photo(&self) -> Option<&str> {
        match self {
            Route::Photo(id) | Route::AlbumPhoto(_, id) | Route::SharedPhoto(_, id) => Some(id),
            _ => None,
        }
    }

    /// The route of photo `id` in the lightbox over this page.
    pub fn with_photo(&self, id: &str) -> Route {
        match self.page() {
            Route::Album(album) => Route::AlbumPhoto(album, id.to_owned()),
            Route::PublicShare(token) => Route::SharedPhoto(token, id.to_owned()),
            _ => Route::Photo(id.to_owned()),
        }
    }
}

/// A window title: what is shown, then the app's name.
pub fn titled(what: &str) -> String {
    format!("{what} · Photos")
}

/// Ids and tokens come from the API and are URL-safe; anything else is not a route of ours,
/// and refusing it keeps odd text out of API paths built from the route.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Route) {
        let route = Route::parse(path);
        assert_eq!(route, expected, "{path}");
        if !matches!(route, Route::NotFound(_)) {
            assert_eq!(Route::parse(&route.path()), route);
        }
    }

    #[test]
    fn parses_every_route() {
        check("/", Route::Gallery);
        check("", Route::Gallery);
        check("/albums", Route::Albums);
        check("/albums/", Route::Albums);
        check("/albums/a1-B_2", Route::Album("a1-B_2".into()));
        check("/photos/p1", Route::Photo("p1".into()));
        check(
            "/albums/a1/photos/p1",
            Route::AlbumPhoto("a1".into(), "p1".into()),
        );
        check("/shares", Route::Shares);
        check("/s/tok", Route::PublicShare("tok".into()));
        check("/s/tok/p1", Route::SharedPhoto("tok".into(), "p1".into()));
        check("/signin", Route::SignIn);
        check("/signup", Route::SignUp);
        check("/confirm", Route::Confirm);
        check("/reset", Route::Reset);
    }

    #[test]
    fn unknown_or_odd_paths_are_not_found() {
        check("/nope", Route::NotFound("/nope".into()));
        check("/photos/a%2Fb", Route::NotFound("/photos/a%2Fb".into()));
        check("/photos/a/b", Route::NotFound("/photos/a/b".into()));
        check("/s/../me", Route::NotFound("/s/../me".into()));
    }

    #[test]
    fn a_photo_opens_over_the_page_it_was_opened_from() {
        let in_album = Route::AlbumPhoto("a".into(), "p".into());
        assert_eq!(in_album.page(), Route::Album("a".into()));
        assert_eq!(in_album.photo(), Some("p"));
        assert_eq!(Route::Photo("p".into()).page(), Route::Gallery);
        assert_eq!(Route::Albums.page(), Route::Albums);
        assert_eq!(Route::Gallery.photo(), None);
        assert_eq!(
            Route::Album("a".into()).with_photo("q"),
            Route::AlbumPhoto("a".into(), "q".into())
        );
        assert_eq!(in_album.with_photo("q").path(), "/albums/a/photos/q");
        assert_eq!(Route::Gallery.with_photo("q"), Route::Photo("q".into()));
        assert!(in_album.needs_session());
        let shared = Route::PublicShare("t".into()).with_photo("p");
        assert_eq!(shared.path(), "/s/t/p");
        assert_eq!(shared.page(), Route::PublicShare("t".into()));
        assert!(!shared.needs_session());
    }

    #[test]
    fn every_page_has_its_own_title() {
        let routes = [
            Route::Gallery,
            Route::Albums,
            Route::Album("a".into()),
            Route::Shares,
            Route::PublicShare("t".into()),
            Route::SignIn,
            Route::SignUp,
            Route::Confirm,
            Route::Reset,
            Route::NotFound("/x".into()),
        ];
        let titles: std::collections::BTreeSet<String> = routes.iter().map(Route::title).collect();
        assert_eq!(titles.len(), routes.len());
        assert_eq!(Route::Albums.title(), "Albums · Photos");
        assert_eq!(Route::Photo("p".into()).title(), Route::Gallery.title());
    }

    #[test]
    fn private_pages_need_a_session() {
        assert!(Route::Gallery.needs_session());
        assert!(!Route::PublicShare("t".into()).needs_session());
        assert!(!Route::SignIn.needs_session());
    }
}
