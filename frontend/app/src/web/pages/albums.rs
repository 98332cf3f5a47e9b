//! Albums: the list with a form to create one, an album's page (rename, delete, its photos on
//! a wall whose selection can be removed from it, sharing), and the lightbox's "Add to album".

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlSelectElement};

use super::selection;
use super::shares::{Preview, share_button};
use super::wall::{self, Source, Wall};
use super::{LIST_LIMIT, confirmed, form, loaded, send, send_text, status, submit, value};
use crate::api::{self, Album, AlbumList, Cursor, ShareKind};
use crate::messages;
use crate::route::Route;
use crate::web::dom::{El, button, el, field, link, say};
use crate::web::go;

/// Asks for the user's albums (one page, the most the API gives); a failure is said on `line`.
pub(super) fn with_albums(line: &Element, done: impl FnOnce(Vec<Album>) + 'static) {
    if let Some(req) = api::list_albums(&Cursor::Start, LIST_LIMIT) {
        send(line, req, move |list: AlbumList| done(list.albums));
    }
}

pub(super) fn add_to_album(photo_id: String) -> El {
    let select = el("select").attr("aria-label", "Album");
    let select_el: HtmlSelectElement = select.element().unchecked_into();
    let line = status();
    let s = select.element();
    with_albums(&line.element(), move |albums| {
        for a in albums {
            let _ = s.append_child(&el("option").attr("value", &a.id).text(&a.name).0);
        }
    });
    let line_b = line.element();
    let add = button("Add to album")
        .class("secondary")
        .on("click", move |_| {
            let (album, line) = (select_el.value(), line_b.clone());
            if album.is_empty() {
                say(&line, "Create an album first, on the Albums page.", true);
                return;
            }
            send_text(&line_b, api::add_to_album(&album, &photo_id), move || {
                say(&line, "Added to the album.", false)
            });
        });
    el("div")
        .child(el("div").class("row").child(select).child(add))
        .child(line)
}

/// An album in the list: its cover, its name, how many photos and when they were taken.
fn album_card(album: &Album) -> El {
    let cover = match &album.cover_thumbnail_url {
        Some(url) => el("img")
            .attr("loading", "lazy")
            .attr("src", url)
            .attr("alt", ""),
        None => el("span").class("empty").text("No photos yet"),
    };
    link(&Route::Album(album.id.clone()).path(), "")
        .class("album")
        .child(el("span").class("cover").child(cover))
        .child(el("strong").text(&album.name))
        .child(
            el("span")
                .class("notice")
                .text(&messages::album_summary(album)),
        )
}

pub(super) fn albums() -> El {
    let (name_l, name) = field("New album", "text", "name");
    let line = status();
    let list = el("ul").class("albums");
    let (l1, l2, ul) = (line.element(), line.element(), list.element());
    let create = form(move || {
        send(&l1, api::create_album(&value(&name)), |a: Album| {
            go(&Route::Album(a.id).path())
        });
    })
    .class("row")
    .child(name_l)
    .child(submit("Create"));
    let line_b = l2.clone();
    with_albums(&l2, move |albums| {
        if albums.is_empty() {
            say(&line_b, "No albums yet.", false);
        }
        for a in albums {
            let _ = ul.append_child(&el("li").child(album_card(&a)).0);
        }
    });
    el("section")
        .child(el("h1").text("Albums"))
        .child(create)
        .child(line)
        .child(list)
}

/// An album's page. Its wall is there from the start, so a photo of the album opened by a
/// deep link has the album's order for its previous and next.
pub(super) fn album(id: String) -> El {
    let (wall, grid) = Wall::new(Source::Album(id.clone()));
    el("section")
        .child(loaded(api::get_album(&id), album_head))
        .child(grid)
        .child(selection::bar(&wall))
}

/// The album's name, with renaming and deleting it.
fn album_head(album: Album) -> El {
    // Named in the title only while its page is the one on screen.
    if wall::current().is_some_and(|w| w.source == Source::Album(album.id.clone())) {
        crate::web::set_title(&album.name);
    }
    let heading = el("h1").text(&album.name);
    let summary = el("p")
        .class("notice")
        .text(&messages::album_summary(&album));
    let add = link(
        &format!("/?add_to={}", api::encode(&album.id)),
        "Add photos",
    )
    .class("button");
    let share = share_button(
        ShareKind::Album,
        album.id.clone(),
        Preview {
            title: album.name.clone(),
            detail: messages::album_summary(&album),
            thumbnail: album.cover_thumbnail_url.clone(),
        },
    );
    let line = status();
    let (name_l, name) = field("Name", "text", "name");
    name.set_value(&album.name);
    let (id1, h, l1) = (album.id.clone(), heading.element(), line.element());
    let rename = form(move || {
        let (n, h, line) = (value(&name), h.clone(), l1.clone());
        send_text(&l1, api::rename_album(&id1, &n), move || {
            h.set_text_content(Some(&n));
            say(&line, "Renamed.", false);
        });
    })
    .class("row")
    .child(name_l)
    .child(submit("Rename"));
    let (id2, l2) = (album.id.clone(), line.element());
    let delete = button("Delete album")
        .class("danger")
        .on("click", move |_| {
            if confirmed("Delete this album? Its photos are kept.") {
                send_text(&l2, api::delete_album(&id2), || go("/albums"));
            }
        });
    el("div")
        .child(link("/albums", "← All albums"))
        .child(
            el("div")
                .class("title")
                .child(heading)
                .child(summary)
                .child(el("div").class("row").child(add).child(share)),
        )
        .child(rename)
        .child(el("div").class("row").child(delete))
        .child(line)
}
