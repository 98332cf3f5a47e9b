//! A page of photos written as JSON by hand: the listing is the API's busiest answer, and most
//! of what it holds needs no escaping.
//!
//! Through serde, every key and every value of every photo goes through the escape scan, a
//! byte at a time, and every piece is a separate small write into the buffer: most of the time
//! a listing took. Here the keys are literals written with their punctuation in one piece; ids,
//! checksums and times are written through their `Display` and checked once for anything that
//! would need escaping (they never have any, but the check makes that a fact rather than an
//! assumption); only text a user chose (file names, titles, cameras) and links go through an
//! escaper. Nested values and numbers are still written by `serde_json`. It writes straight from
//! the domain's views, skipping the DTOs, and its bytes are the ones `PhotoPage::from` and the
//! derived `Serialize` would give, which the tests hold it to with every field filled: the DTO
//! stays the definition of the shape (and of the OpenAPI schema), and a field added to it
//! without being added here fails them.
//!
//! A gallery lists the same photos again and again (every visit, every "Load more", every
//! renewal of expired links), so each thread remembers the JSON it last wrote for a photo,
//! with the photo it wrote it from: a photo equal to the remembered one, field for field, is
//! written by copying those bytes (a comparison is far cheaper than the formatting). Links are
//! never remembered: they change with their time window, and are written afresh each time.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write as _;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use photo_domain::{Listing, Photo, PhotoId, PhotoStatus, PhotoView};

use crate::dto::{DimensionsDto, GpsDto, Text};

/// About what one photo takes in a page's JSON (a PENDING one 400 bytes, a READY one more with
/// its links): the buffer is sized for a page of them up front.
const PHOTO_JSON_BYTES: usize = 768;

/// A page of photos as a response: the body [`PhotoPage`](crate::dto::PhotoPage) describes.
#[derive(Debug)]
pub struct PhotoListing(pub Listing<PhotoView>);

impl IntoResponse for PhotoListing {
    fn into_response(self) -> Response {
        let json = HeaderValue::from_static("application/json");
        ([(header::CONTENT_TYPE, json)], page(&self.0)).into_response()
    }
}

/// `listing` as the JSON that [`PhotoPage`](crate::dto::PhotoPage)'s derived `Serialize`
/// writes for it, written straight from the domain's views.
pub fn page(listing: &Listing<PhotoView>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + listing.items.len() * PHOTO_JSON_BYTES);
    out.extend_from_slice(b"{\"items\":[");
    for (i, view) in listing.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        photo(&mut out, view);
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    option(&mut out, listing.next_cursor.as_deref(), string);
    out.push(b'}');
    out
}

/// The JSON of photos written recently, up to their links: by id, with the photo each was
/// written from. At [`RENDERED_MAX`] entries it starts over; one per thread, so writers never
/// wait for each other.
type Rendered = HashMap<PhotoId, (Photo, Box<[u8]>), foldhash::fast::RandomState>;
thread_local! {
    static RENDERED: RefCell<Rendered> = RefCell::new(HashMap::default());
}
const RENDERED_MAX: usize = 2048;

/// One photo as [`PhotoDto`](crate::dto::PhotoDto), its fields in the order the struct
/// declares them: what comes before the links from the memo when the photo is unchanged.
fn photo(out: &mut Vec<u8>, view: &PhotoView) {
    let p = &view.photo;
    let remembered = RENDERED.with_borrow(|memo| match memo.get(&p.id) {
        Some((seen, json)) if seen == p => {
            out.extend_from_slice(json);
            true
        }
        _ => false,
    });
    if !remembered {
        let start = out.len();
        fields(out, p);
        let json = out[start..].into();
        RENDERED.with_borrow_mut(|memo| {
            if memo.len() >= RENDERED_MAX {
                memo.clear();
            }
            memo.insert(p.id, (p.clone(), json));
        });
    }
    out.extend_from_slice(b",\"thumbnail_url\":");
    option(out, view.urls.thumbnail.as_deref(), string);
    out.extend_from_slice(b",\"preview_url\":");
    option(out, view.urls.preview.as_deref(), string);
    out.extend_from_slice(b",\"original_url\":");
    option(out, view.urls.original.as_deref(), string);
    out.push(b'}');
}

/// A photo's fields before its links, from the opening brace.
fn fields(out: &mut Vec<u8>, p: &Photo) {
    out.extend_from_slice(b"{\"id\":");
    shown(out, &Text(p.id));
    out.extend_from_slice(b",\"status\":");
    string(out, p.status.as_str());
    out.extend_from_slice(b",\"failure_reason\":");
    let failure = match &p.status {
        PhotoStatus::Failed { reason } => Some(reason.as_str()),
        PhotoStatus::Pending | PhotoStatus::Ready => None,
    };
    option(out, failure, string);
    out.extend_from_slice(b",\"file_name\":");
    string(out, p.file_name.as_str());
    out.extend_from_slice(b",\"content_type\":");
    string(out, p.content_type.as_str());
    out.extend_from_slice(b",\"size\":");
    value(out, &p.size);
    out.extend_from_slice(b",\"sha256\":");
    shown(out, &Text(p.sha256_declared));
    out.extend_from_slice(b",\"dimensions\":");
    value(out, &p.dimensions.map(DimensionsDto::from));
    out.extend_from_slice(b",\"taken_at\":");
    option(out, p.taken_at.map(|t| Text(t.rfc3339())).as_ref(), shown);
    out.extend_from_slice(b",\"taken_at_local\":");
    option(out, p.taken_at_local().as_deref(), string);
    out.extend_from_slice(b",\"camera\":");
    option(out, p.camera.as_ref().map(|c| c.as_str()), string);
    out.extend_from_slice(b",\"gps\":");
    value(out, &p.gps.map(GpsDto::from));
    out.extend_from_slice(b",\"title\":");
    option(out, p.title.as_ref().map(|t| t.as_str()), string);
    out.extend_from_slice(b",\"favourite\":");
    out.extend_from_slice(if p.favourite { b"true" } else { b"false" });
    out.extend_from_slice(b",\"created_at\":");
    shown(out, &Text(p.created_at.rfc3339()));
}

fn option<T: ?Sized>(out: &mut Vec<u8>, v: Option<&T>, write: fn(&mut Vec<u8>, &T)) {
    match v {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Whether JSON needs `b` escaped inside a string: quotes, backslashes and control characters.
/// (Like serde_json, nothing else is escaped: the output is UTF-8.)
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any byte of `bytes` needs escaping. Every byte is looked at, with no early exit, so
/// the loop compiles to wide vector compares: most strings here need nothing, and are short.
fn any_needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| any | needs_escape(b))
}

/// A string, as serde_json writes it: as it is when nothing in it needs escaping, otherwise
/// through serde_json's own escaper.
fn string(out: &mut Vec<u8>, s: &str) {
    if any_needs_escape(s.as_bytes()) {
        value(out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// A value shown through its `Display` as a JSON string; if what it showed needs escaping after
/// all, it is written again through the escaper.
fn shown<T: std::fmt::Display>(out: &mut Vec<u8>, v: &Text<T>) {
    let start = out.len();
    out.push(b'"');
    // Writing into a `Vec` cannot fail.
    let _ = write!(out, "{}", v.0);
    if any_needs_escape(&out[start + 1..]) {
        out.truncate(start);
        value(out, v);
    } else {
        out.push(b'"');
    }
}

/// Anything else (numbers, nested objects) through serde_json.
fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing the API's own DTOs into a `Vec` cannot fail: no map with non-string keys.
    let _ = serde_json::to_writer(out, v);
}

#[cfg(test)]
mod tests {
    use photo_domain::{
        Camera, ContentType, Dimensions, FileName, Gps, Photo, PhotoId, PhotoUrls, Sha256,
        Timestamp, Title, UserId,
    };

    use super::*;
    use crate::dto::PhotoPage;

    fn view(n: u8) -> PhotoView {
        let photo = Photo::pending(
            PhotoId::parse("01JD3W8Z5E0000000000000000").unwrap(),
            UserId::parse("8d0e6f6a-0b1c-4c1e-9f5e-3c2b1a000000").unwrap(),
            FileName::parse(&format!("photo-{n}.jpg")).unwrap(),
            ContentType::Jpeg,
            1_000_000 + u64::from(n),
            Sha256::from_bytes([n; 32]),
            Timestamp::from_millis(1_767_225_600_123),
        );
        PhotoView {
            photo,
            urls: PhotoUrls::default(),
        }
    }

    /// Ours against the derived `Serialize` of the DTO the views convert to.
    fn check(listing: Listing<PhotoView>) {
        let ours = page(&listing);
        let derived = serde_json::to_vec(&PhotoPage::from(listing)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&derived)
        );
    }

    #[test]
    fn an_empty_page_and_a_page_of_plain_photos_are_what_serde_writes() {
        check(Listing {
            items: vec![],
            next_cursor: None,
        });
        check(Listing {
            items: (0..50).map(view).collect(),
            next_cursor: Some("UEhPVE8jMDFKRDNXOFo1RQ".into()),
        });
    }

    #[test]
    fn a_photo_changed_since_it_was_written_is_written_afresh() {
        let listing = |title: Option<&str>, thumbnail: Option<&str>| {
            let mut v = view(7);
            v.photo.id = PhotoId::parse("01JD3W8Z5E00000000000000MM").unwrap();
            v.photo.title = title.map(|t| Title::parse(t).unwrap());
            v.urls.thumbnail = thumbnail.map(str::to_owned);
            Listing {
                items: vec![v],
                next_cursor: None,
            }
        };
        // Written once, then again from the memo: the same bytes, which are serde's.
        let first = page(&listing(None, Some("http://x/t?w=1")));
        assert_eq!(first, page(&listing(None, Some("http://x/t?w=1"))));
        check(listing(None, Some("http://x/t?w=1")));
        // A new title under the same id, and new links: neither comes from the memo.
        check(listing(Some("Renamed"), Some("http://x/t?w=1")));
        check(listing(Some("Renamed"), Some("http://x/t?w=2")));
        check(listing(None, None));
        let renamed = String::from_utf8(page(&listing(Some("Renamed"), None))).unwrap();
        assert!(renamed.contains("\"title\":\"Renamed\""), "{renamed}");
    }

    #[test]
    fn every_optional_field_and_every_awkward_string_is_what_serde_writes() {
        let awkward = [
            "say \"cheese\"",
            "back\\slash",
            "tab\there, newline\nthere",
            "\u{1}\u{1f}",
            "Zoë's café, 東京 🌸",
            "</script><script>alert(1)</script>",
        ];
        let items = awkward
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut v = view(i as u8);
                let p = &mut v.photo;
                p.status = if i % 3 == 0 {
                    PhotoStatus::Failed {
                        reason: (*text).to_owned(),
                    }
                } else {
                    PhotoStatus::Ready
                };
                // The domain refuses control characters in names: those reach the JSON only
                // through failure reasons and links.
                if let Ok(name) = FileName::parse(text) {
                    p.file_name = name;
                    p.title = Some(Title::parse(text).unwrap());
                    p.camera = Some(Camera::parse(&format!("{text} camera")).unwrap());
                }
                p.dimensions = Some(Dimensions {
                    width: 4032,
                    height: 3024,
                });
                p.taken_at = Some(Timestamp::from_millis(-86_400_001));
                p.taken_offset_minutes = [None, Some(-330), Some(120)][i % 3];
                p.gps = Some(Gps::new(-33.856_784, 151.215_297_000_1).unwrap());
                p.favourite = i % 2 == 0;
                v.urls = PhotoUrls {
                    thumbnail: Some(format!("http://127.0.0.1:8080/_media/t?x={text}")),
                    preview: Some(
                        "https://d.cloudfront.net/p/1.jpg?Expires=1&Signature=a~b".into(),
                    ),
                    original: Some(String::new()),
                };
                v
            })
            .collect();
        check(Listing {
            items,
            next_cursor: Some("quote\"and\\".into()),
        });
    }

    #[test]
    fn a_shown_value_that_needs_escaping_is_escaped() {
        struct Odd;
        impl std::fmt::Display for Odd {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a\"b\n")
            }
        }
        let mut out = Vec::new();
        shown(&mut out, &Text(Odd));
        assert_eq!(out, br#""a\"b\n""#);
    }
}
