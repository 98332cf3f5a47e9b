//! The gallery, the signed-in home page: the storage used, uploads by picker or drop, and
//! the grid of the user's photos.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{File, FileList};

use super::grid::photo_grid;
use super::upload::start_uploads;
use crate::api;
use crate::messages;
use crate::web::dom::{El, el};
use crate::web::net;

fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

pub(super) fn gallery() -> El {
    let uploads = el("ul").class("uploads").attr("aria-label", "Uploads");
    let (section, grid) = photo_grid(|c| api::list_photos(c, api::PAGE_SIZE), |_, t| t);
    let picker = el("input")
        .attr("type", "file")
        .attr("multiple", "")
        .attr("accept", api::ACCEPTED_FILES);
    let (uploads_a, grid_a, picker_el) = (uploads.element(), grid.element(), picker.input());
    let picker = picker.on("change", move |_| {
        start_uploads(files_of(picker_el.files()), &uploads_a, &grid_a);
        picker_el.set_value("");
    });
    let (uploads_b, grid_b) = (uploads.element(), grid.element());
    let drop = el("div").class("drop");
    let (d1, d2, d3) = (drop.element(), drop.element(), drop.element());
    let drop = drop
        .on("dragover", move |e| {
            e.prevent_default();
            let _ = d1.class_list().add_1("over");
        })
        .on("dragleave", move |_| {
            let _ = d2.class_list().remove_1("over");
        })
        .on("drop", move |e| {
            e.prevent_default();
            let _ = d3.class_list().remove_1("over");
            let files = e
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(|d| d.data_transfer())
                .and_then(|t| t.files());
            start_uploads(files_of(files), &uploads_b, &grid_b);
        })
        .child(
            el("label")
                .class("upload")
                .text("Upload photos")
                .child(picker),
        )
        .child(
            el("p")
                .class("notice")
                .text("or drop them here: JPEG, PNG, WebP or HEIC"),
        );
    let usage = el("p").class("notice usage");
    let usage_el = usage.element();
    spawn_local(async move {
        if let Ok(u) = net::api::<api::Usage>(&api::me()).await {
            usage_el.set_text_content(Some(&messages::usage(&u)));
        }
    });
    el("section")
        .child(
            el("div")
                .class("title")
                .child(el("h1").text("Your photos"))
                .child(usage),
        )
        .child(drop)
        .child(uploads)
        .child(section)
}
