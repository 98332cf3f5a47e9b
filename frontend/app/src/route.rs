//! Client-side routes: parsing a location path into a [`Route`] and back.

/// A page of the app. The server answers every one of these paths with `index.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Gallery,
    Albums,
    Album(String),
    Photo(String),
    Shares,
    PublicShare(String),
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
            ["shares"] => Route::Shares,
            ["s", token] if valid_id(token) => Route::PublicShare((*token).to_owned()),
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
            Route::Shares => "/shares".into(),
            Route::PublicShare(token) => format!("/s/{token}"),
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
            Route::Gallery | Route::Albums | Route::Album(_) | Route::Photo(_) | Route::Shares
        )
    }
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
        check("/shares", Route::Shares);
        check("/s/tok", Route::PublicShare("tok".into()));
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
    fn private_pages_need_a_session() {
        assert!(Route::Gallery.needs_session());
        assert!(!Route::PublicShare("t".into()).needs_session());
        assert!(!Route::SignIn.needs_session());
    }
}
