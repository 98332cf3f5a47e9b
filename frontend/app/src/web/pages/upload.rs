//! Uploads: each file gets a row with a progress bar, a few go at a time, and a failed one
//! that may work again gets a retry button.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, File};

use super::failed;
use super::wall::Wall;
use crate::api::{self, ApiError, UploadGrant, UploadIntent};
use crate::messages;
use crate::web::dom::{button, el, say};
use crate::web::net;

/// How many files upload at the same time; the rest wait their turn in the list.
const PARALLEL_UPLOADS: usize = 3;

type UploadJob = (File, Element, Element, web_sys::HtmlElement, Rc<Wall>);

/// Queues uploads, each with its own row and progress bar, and runs a few at a time.
pub(super) fn start_uploads(files: Vec<File>, list: &Element, grid: &Rc<Wall>) {
    let jobs: std::collections::VecDeque<UploadJob> = files
        .into_iter()
        .map(|file| {
            let line = el("span").text("Waiting…");
            let bar = el("progress")
                .attr("max", "1")
                .attr("value", "0")
                .attr("aria-label", &format!("Upload of {}", file.name()));
            let retry = button("Retry").class("secondary").attr("hidden", "");
            let row = el("li")
                .child(el("span").text(&file.name()))
                .child(line.clone())
                .child(bar.clone())
                .child(retry.clone());
            let _ = list.append_child(&row.0);
            (
                file,
                line.element(),
                bar.element(),
                retry.html(),
                grid.clone(),
            )
        })
        .collect();
    let queue = Rc::new(RefCell::new(jobs));
    for _ in 0..PARALLEL_UPLOADS {
        let queue = queue.clone();
        spawn_local(async move {
            loop {
                let job = queue.borrow_mut().pop_front();
                let Some((file, line, bar, retry, grid)) = job else {
                    return;
                };
                upload_one(file, line, bar, retry, grid).await;
            }
        });
    }
}

async fn upload_one(
    file: File,
    line: Element,
    bar: Element,
    retry: web_sys::HtmlElement,
    grid: Rc<Wall>,
) {
    let _ = retry.set_attribute("hidden", "");
    let fail = |e: &ApiError| {
        failed(&line, e);
        if messages::is_retryable(e) {
            let _ = retry.remove_attribute("hidden");
            let (file, line, bar, r, grid) = (
                file.clone(),
                line.clone(),
                bar.clone(),
                retry.clone(),
                grid.clone(),
            );
            let once = Closure::once_into_js(move || {
                // Hidden at once so a double click cannot call this one-shot closure twice.
                let _ = r.set_attribute("hidden", "");
                r.set_onclick(None);
                spawn_local(upload_one(file, line, bar, r, grid));
            });
            retry.set_onclick(Some(once.unchecked_ref()));
        }
    };
    say(&line, "Checking…", false);
    let Ok(sha256) = net::sha256_hex(&file).await else {
        fail(&ApiError {
            code: "unreadable".into(),
            message: String::new(),
        });
        say(&line, "This file could not be read.", true);
        return;
    };
    let intent = UploadIntent {
        file_name: file.name(),
        content_type: api::upload_content_type(&file.name(), &file.type_()),
        size: file.size() as u64,
        sha256,
    };
    let grant = match net::api::<UploadGrant>(&api::create_upload(&intent)).await {
        Ok(grant) => grant,
        Err(e) => return fail(&e),
    };
    say(&line, "Uploading…", false);
    let progress_bar = bar.clone();
    match net::upload(&grant.upload, &file, move |f| {
        let _ = progress_bar.set_attribute("value", &format!("{f:.3}"));
    })
    .await
    {
        Ok(()) => {
            let _ = bar.set_attribute("value", "1");
            say(&line, "Uploaded", false);
            grid.put(&grant.photo);
        }
        Err(e) => fail(&e),
    }
}
