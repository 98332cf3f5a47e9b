//! The selection bar: at the foot of the screen (in reach of a thumb) while photos of a wall are
//! selected, with their count and what can be done to all of them at once through the batch
//! API: favourite, add to an album, share, delete (after a confirmation that says how many),
//! and, in an album, remove from it.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlSelectElement};

use super::albums::with_albums;
use super::shares::{Preview, open_dialog};
use super::wall::{Source, Wall};
use super::{confirmed, failed, lightbox, status};
use crate::api::{self, Album, ApiError, BatchAction, BatchOutcome, ShareKind};
use crate::messages;
use crate::web::dom::{El, button, document, el, listen, say};
use crate::web::{go, net, query_param};

/// `1 photo`, `3 photos`.
fn photos(n: usize) -> String {
    messages::photos(n as u64)
}

/// Runs one action on every id, [`api::MAX_BATCH`] at a time: the ids it was done to, and how
/// many it was not.
async fn batch(
    action: BatchAction,
    ids: &[String],
    album: Option<&str>,
) -> Result<(Vec<String>, usize), ApiError> {
    let (mut done, mut refused) = (Vec::new(), 0);
    for chunk in ids.chunks(api::MAX_BATCH) {
        let outcome: BatchOutcome = net::api(&api::batch(action, chunk, album)).await?;
        refused += outcome.failed;
        done.extend(outcome.results.into_iter().filter(|r| r.ok).map(|r| r.id));
    }
    Ok((done, refused))
}

/// What a finished action says: `Added 3 photos to the album.`, and what it could not do.
fn outcome(done: &str, n: usize, refused: usize) -> String {
    let mut text = done.replace("{}", &photos(n));
    if refused > 0 {
        text.push_str(&format!(
            " {} could not be changed (deleted meanwhile?).",
            photos(refused)
        ));
    }
    text
}

/// The bar for `wall`, hidden until something is selected.
pub(super) fn bar(wall: &Rc<Wall>) -> El {
    let count = el("strong").attr("aria-live", "polite");
    let line = status();
    let panel = el("div").class("selection-panel");
    let album_select = el("select").attr("aria-label", "Album");
    let clear = button("✕")
        .class("secondary")
        .attr("aria-label", "Clear selection");
    let favourite = button("☆ Favourite").class("secondary");
    let add = button("Add to album").class("secondary");
    let share = button("Share").class("secondary");
    let delete = button("Delete").class("danger");
    let mut actions = el("div")
        .class("row")
        .child(favourite.clone())
        .child(album_select.clone())
        .child(add.clone())
        .child(share.clone());
    let remove = button("Remove from album").class("secondary");
    if let Source::Album(_) = wall.source {
        actions = actions.child(remove.clone());
    }
    let actions = actions.child(delete.clone());
    let root = el("div")
        .class("selection")
        .attr("role", "toolbar")
        .attr("aria-label", "Selected photos")
        .attr("hidden", "")
        .child(
            el("div")
                .class("row")
                .child(clear.clone())
                .child(count.clone())
                .child(el("span").class("spacer"))
                .child(actions),
        )
        .child(panel.clone());

    let (root_el, count_el, line_el, panel_el) = (
        root.element(),
        count.element(),
        line.element(),
        panel.element(),
    );
    let albums_loaded = std::cell::Cell::new(false);
    let select_el = album_select.element();
    wall.on_select(move |n| {
        count_el.set_text_content(Some(&format!("{n} selected")));
        if n == 0 {
            let _ = root_el.set_attribute("hidden", "");
            panel_el.set_text_content(None);
            return;
        }
        let _ = root_el.remove_attribute("hidden");
        if !albums_loaded.replace(true) {
            let s = select_el.clone();
            with_albums(&line_el, move |albums| {
                fill(&s, albums);
                // Chosen from an album's "Add photos": that album.
                if let Some(album) = query_param("add_to") {
                    s.unchecked_ref::<HtmlSelectElement>().set_value(&album);
                }
            });
        }
    });

    let w = wall.clone();
    listen(&clear.element(), "click", move |_| w.clear_selection());
    // Escape clears the selection (unless the lightbox is open: there it closes the lightbox).
    let w = wall.clone();
    listen(&document(), "keydown", move |e| {
        let escape = e
            .dyn_ref::<web_sys::KeyboardEvent>()
            .is_some_and(|k| k.key() == "Escape");
        if escape && !lightbox::is_open() && !super::dialog_open() && !w.selected().is_empty() {
            w.clear_selection();
        }
    });

    let (w, l) = (wall.clone(), line.element());
    listen(&favourite.element(), "click", move |_| {
        let ids = w.selected();
        // Favourite them all, unless they all are already: then the opposite.
        let all = ids
            .iter()
            .all(|id| w.photo(id).is_some_and(|p| p.favourite));
        let action = if all {
            BatchAction::Unfavourite
        } else {
            BatchAction::Favourite
        };
        let (w, l) = (w.clone(), l.clone());
        spawn_local(async move {
            match batch(action, &ids, None).await {
                Ok((done, refused)) => {
                    for id in &done {
                        if let Some(mut p) = w.photo(id) {
                            p.favourite = !all;
                            w.put(&p);
                        }
                    }
                    let text = if all {
                        "Removed {} from favourites."
                    } else {
                        "Added {} to favourites."
                    };
                    say(&l, &outcome(text, done.len(), refused), false);
                }
                Err(e) => failed(&l, &e),
            }
        });
    });

    let (w, l, s) = (wall.clone(), line.element(), album_select.element());
    listen(&add.element(), "click", move |_| {
        let album = s.unchecked_ref::<HtmlSelectElement>().value();
        if album.is_empty() {
            say(&l, "Create an album first, on the Albums page.", true);
            return;
        }
        let (ids, w, l) = (w.selected(), w.clone(), l.clone());
        spawn_local(async move {
            match batch(BatchAction::AddToAlbum, &ids, Some(&album)).await {
                Ok((done, refused)) => {
                    say(
                        &l,
                        &outcome("Added {} to the album.", done.len(), refused),
                        false,
                    );
                    w.clear_selection();
                    if query_param("add_to").as_deref() == Some(album.as_str()) && refused == 0 {
                        go(&crate::route::Route::Album(album.clone()).path());
                    }
                }
                Err(e) => failed(&l, &e),
            }
        });
    });

    let (w, l, p) = (wall.clone(), line.element(), panel.element());
    listen(&share.element(), "click", move |_| {
        let (ids, l, p) = (w.selected(), l.clone(), p.clone());
        share_selection(&w, ids, &l, &p);
    });

    let (w, l) = (wall.clone(), line.element());
    listen(&delete.element(), "click", move |_| {
        let ids = w.selected();
        let question = format!("Delete {}? This cannot be undone.", photos(ids.len()));
        if !confirmed(&question) {
            return;
        }
        let (w, l) = (w.clone(), l.clone());
        spawn_local(async move {
            match batch(BatchAction::Delete, &ids, None).await {
                Ok((done, refused)) => {
                    for id in &done {
                        w.remove(id);
                    }
                    say(&l, &outcome("Deleted {}.", done.len(), refused), false);
                }
                Err(e) => failed(&l, &e),
            }
        });
    });

    if let Source::Album(album) = wall.source.clone() {
        let (w, l) = (wall.clone(), line.element());
        listen(&remove.element(), "click", move |_| {
            let (ids, w, l, album) = (w.selected(), w.clone(), l.clone(), album.clone());
            spawn_local(async move {
                let mut removed = 0;
                for id in &ids {
                    match net::api_text(&api::remove_from_album(&album, id)).await {
                        Ok(_) => {
                            w.remove(id);
                            removed += 1;
                        }
                        Err(e) => {
                            failed(&l, &e);
                            return;
                        }
                    }
                }
                say(
                    &l,
                    &outcome("Removed {} from the album.", removed, 0),
                    false,
                );
            });
        });
    }
    // What an action did stays on screen after the selection (and the bar) is gone.
    el("div")
        .child(root)
        .child(el("div").class("toast").child(line))
}

fn fill(select: &Element, albums: Vec<Album>) {
    for a in albums {
        let _ = select.append_child(&el("option").attr("value", &a.id).text(&a.name).0);
    }
}

/// Shares one photo as itself; several as a new album of them (what the API can share).
fn share_selection(wall: &Wall, ids: Vec<String>, line: &Element, panel: &Element) {
    let first = ids.first().and_then(|id| wall.photo(id));
    let thumbnail = first.as_ref().and_then(|p| p.thumbnail_url.clone());
    if let ([id], Some(photo)) = (ids.as_slice(), &first) {
        let preview = Preview {
            title: photo.display_name(),
            detail: "Photo".to_owned(),
            thumbnail,
        };
        open_dialog(panel, ShareKind::Photo, id.clone(), preview);
        return;
    }
    let day = messages::day(
        &js_sys::Date::new_0()
            .to_iso_string()
            .as_string()
            .unwrap_or_default(),
    );
    let name = format!("{} shared on {day}", photos(ids.len()));
    let (line, panel) = (line.clone(), panel.clone());
    spawn_local(async move {
        let album = match net::api::<Album>(&api::create_album(&name)).await {
            Ok(a) => a,
            Err(e) => return failed(&line, &e),
        };
        match batch(BatchAction::AddToAlbum, &ids, Some(&album.id)).await {
            Ok((done, refused)) => {
                say(
                    &line,
                    &outcome(
                        &format!("Made the album “{name}” of {{}} to share them."),
                        done.len(),
                        refused,
                    ),
                    false,
                );
                let preview = Preview {
                    title: name.clone(),
                    detail: photos(done.len()),
                    thumbnail,
                };
                open_dialog(&panel, ShareKind::Album, album.id, preview);
            }
            Err(e) => failed(&line, &e),
        }
    });
}
