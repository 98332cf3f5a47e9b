//! A small element builder over web-sys, and page-scoped event listeners that are removed
//! when the user leaves the page (so no closure outlives the elements it serves).

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{
    Document, Element, Event, EventTarget, HtmlElement, HtmlInputElement, IntersectionObserver,
    Node, Window,
};

pub fn window() -> Window {
    web_sys::window().expect("the app runs in a window")
}

pub fn document() -> Document {
    window().document().expect("the window has a document")
}

/// A listener: its target, event type, capture flag and closure.
type Listener = (EventTarget, &'static str, bool, Closure<dyn FnMut(Event)>);

#[derive(Default)]
struct Scope {
    listeners: Vec<Listener>,
    observers: Vec<IntersectionObserver>,
    /// Closures handed to JS by other means (observer callbacks), kept alive with the page.
    kept: Vec<Box<dyn std::any::Any>>,
}

/// What a listener lives as long as: the page; the overlay above it (the lightbox); or the part
/// of the overlay that is rebuilt for each photo it shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Page = 0,
    Overlay = 1,
    Details = 2,
}

thread_local! {
    /// Listeners and observers of each [`Layer`], dropped when it goes.
    static SCOPES: RefCell<[Scope; 3]> = RefCell::new(Default::default());
    /// The layer what is built now belongs to.
    static LAYER: std::cell::Cell<Layer> = const { std::cell::Cell::new(Layer::Page) };
}

fn with_scope<T>(f: impl FnOnce(&mut Scope) -> T) -> T {
    let layer = LAYER.with(|l| l.get()) as usize;
    SCOPES.with(|s| f(&mut s.borrow_mut()[layer]))
}

/// Builds with `f` what lives only as long as `layer`: its listeners are removed by
/// [`clear_layer`] (or with the page).
pub fn in_layer<T>(layer: Layer, f: impl FnOnce() -> T) -> T {
    let before = LAYER.with(|l| l.replace(layer));
    let out = f();
    LAYER.with(|l| l.set(before));
    out
}

/// Adds a listener that lives until the next page is rendered.
pub fn listen(target: &EventTarget, ty: &'static str, f: impl FnMut(Event) + 'static) {
    add_listener(target, ty, false, f);
}

/// [`listen`] in the capture phase: it hears events that do not bubble (an image's `error`)
/// from everything under `target`.
pub fn listen_capture(target: &EventTarget, ty: &'static str, f: impl FnMut(Event) + 'static) {
    add_listener(target, ty, true, f);
}

fn add_listener(
    target: &EventTarget,
    ty: &'static str,
    capture: bool,
    f: impl FnMut(Event) + 'static,
) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    if target
        .add_event_listener_with_callback_and_bool(ty, closure.as_ref().unchecked_ref(), capture)
        .is_ok()
    {
        with_scope(|s| s.listeners.push((target.clone(), ty, capture, closure)));
    }
}

/// Keeps an observer and its callback until the next page, then disconnects it.
pub fn keep_observer(observer: IntersectionObserver, callback: Box<dyn std::any::Any>) {
    with_scope(|s| {
        s.observers.push(observer);
        s.kept.push(callback);
    });
}

/// Removes every page-scoped listener and observer, the overlay's too.
pub fn clear_scope() {
    clear_layer(Layer::Page);
}

/// Removes the listeners and observers of `layer` and of the layers above it.
pub fn clear_layer(layer: Layer) {
    let scopes: Vec<Scope> = SCOPES.with(|s| {
        let mut s = s.borrow_mut();
        (layer as usize..s.len())
            .map(|i| std::mem::take(&mut s[i]))
            .collect()
    });
    for scope in scopes {
        drop_scope(scope);
    }
}

fn drop_scope(scope: Scope) {
    for (target, ty, capture, closure) in scope.listeners {
        let _ = target.remove_event_listener_with_callback_and_bool(
            ty,
            closure.as_ref().unchecked_ref(),
            capture,
        );
    }
    for observer in scope.observers {
        observer.disconnect();
    }
    drop(scope.kept);
}

/// An element under construction.
#[derive(Debug, Clone)]
pub struct El(pub Element);

pub fn el(tag: &str) -> El {
    El(document().create_element(tag).expect("valid tag name"))
}

impl El {
    pub fn attr(self, name: &str, value: &str) -> Self {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// Sets one style property through the CSSOM: the site's Content-Security-Policy refuses
    /// `style` attributes, not this.
    pub fn style(self, property: &str, value: &str) -> Self {
        set_style(&self.0, property, value);
        self
    }

    pub fn class(self, class: &str) -> Self {
        self.attr("class", class)
    }

    pub fn text(self, text: &str) -> Self {
        let _ = self.0.append_with_str_1(text);
        self
    }

    pub fn child(self, child: impl AsRef<Node>) -> Self {
        let _ = self.0.append_child(child.as_ref());
        self
    }

    pub fn children(self, children: impl IntoIterator<Item = El>) -> Self {
        for c in children {
            let _ = self.0.append_child(&c.0);
        }
        self
    }

    pub fn on(self, ty: &'static str, f: impl FnMut(Event) + 'static) -> Self {
        listen(&self.0, ty, f);
        self
    }

    pub fn element(&self) -> Element {
        self.0.clone()
    }

    pub fn html(&self) -> HtmlElement {
        self.0.clone().unchecked_into()
    }

    pub fn input(&self) -> HtmlInputElement {
        self.0.clone().unchecked_into()
    }
}

impl AsRef<Node> for El {
    fn as_ref(&self) -> &Node {
        &self.0
    }
}

/// Sets one style property of `element` (see [`El::style`]).
pub fn set_style(element: &Element, property: &str, value: &str) {
    if let Some(e) = element.dyn_ref::<HtmlElement>() {
        let _ = e.style().set_property(property, value);
    }
}

/// Replaces all children of `parent` with `child`.
pub fn replace_children(parent: &Element, child: &El) {
    parent.set_text_content(None);
    let _ = parent.append_child(&child.0);
}

/// Sets a status line: an error (announced to screen readers) or a notice; empty clears it.
pub fn say(target: &Element, text: &str, error: bool) {
    target.set_text_content(Some(text));
    let _ = target.set_attribute("class", if error { "error" } else { "notice" });
    let _ = target.set_attribute("role", if error { "alert" } else { "status" });
}

/// A labelled input.
pub fn field(label: &str, ty: &str, name: &str) -> (El, HtmlInputElement) {
    let input = el("input").attr("type", ty).attr("name", name);
    if ty != "file" && ty != "checkbox" {
        let _ = input.0.set_attribute("required", "");
    }
    let i = input.input();
    (el("label").text(label).child(input), i)
}

/// An in-app link: clicks are routed without reloading (see the document click handler).
pub fn link(href: &str, text: &str) -> El {
    el("a").attr("href", href).attr("data-link", "").text(text)
}

pub fn button(text: &str) -> El {
    el("button").attr("type", "button").text(text)
}
