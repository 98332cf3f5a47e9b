//! The account pages, all talking to Cognito: sign in, create an account, confirm it with the
//! e-mailed code, and reset a forgotten password.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;

use super::{card, failed, run, status, submit, value};
use crate::api;
use crate::cognito::{self, AuthOutcome};
use crate::messages;
use crate::web::dom::{El, button, el, field, link, say};
use crate::web::{go, net, query_param, session};

fn client_id() -> String {
    session::config().user_pool_client_id
}

/// The hint under a field where a password is chosen: the user pool's rules, which the stack
/// and the local stage enforce (`photo_contract::users::PASSWORD_POLICY`).
fn password_hint(input: &web_sys::HtmlInputElement) -> El {
    let policy = photo_contract::users::PASSWORD_POLICY;
    let _ = input.set_attribute("minlength", &policy.minimum_length.to_string());
    let _ = input.set_attribute("aria-describedby", "password-rules");
    el("p")
        .class("hint")
        .attr("id", "password-rules")
        .text(&messages::password_rules(&policy))
}

/// Where an account page sends the user to sign in, the e-mail address filled in and what
/// was just done said there.
fn to_sign_in(email: &str, done: &str) {
    go(&format!("/signin?email={}&done={done}", api::encode(email)));
}

pub(super) fn sign_in() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    email.set_value(&query_param("email").unwrap_or_default());
    let done = match query_param("done").as_deref() {
        Some("confirmed") => Some("Your account is confirmed. Sign in to start."),
        Some("reset") => Some("Your password is changed. Sign in with the new one."),
        _ => None,
    };
    let (pw_l, pw) = field("Password", "password", "password");
    let _ = email.set_attribute("autocomplete", "username");
    let _ = pw.set_attribute("autocomplete", "current-password");
    let line = status();
    if let Some(done) = done {
        say(&line.element(), done, false);
    }
    let line_el = line.element();
    card("Sign in", move || {
        let (email_v, pw_v, line) = (value(&email), pw.value(), line_el.clone());
        say(&line, "Signing in…", false);
        spawn_local(async move {
            match net::cognito(cognito::sign_in(&client_id(), &email_v, &pw_v)).await.and_then(|b| cognito::parse_auth(&b)) {
                Ok(AuthOutcome::Tokens(tokens)) => {
                    session::accept(tokens);
                    go("/");
                }
                Ok(AuthOutcome::Challenge(c)) => say(&line, &format!("This account needs a step the app does not support (`{c}`); contact support."), true),
                Err(e) if e.kind == "UserNotConfirmedException" => go(&format!("/confirm?email={}", api::encode(&email_v))),
                Err(e) => failed(&line, &e),
            }
        });
    })
    .child(
        el("p")
            .class("pitch")
            .text("Your photos in one place, private until you share them with a link."),
    )
    .child(email_l)
    .child(pw_l)
    .child(submit("Sign in"))
    .child(line)
    .child(link("/reset", "Forgot your password?"))
    .child(link("/signup", "Create an account"))
}

pub(super) fn sign_up() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    let (pw_l, pw) = field("Password", "password", "password");
    let _ = pw.set_attribute("autocomplete", "new-password");
    let hint = password_hint(&pw);
    let line = status();
    let line_el = line.element();
    card("Create an account", move || {
        let (email_v, pw_v) = (value(&email), pw.value());
        say(&line_el, "Creating your account…", false);
        let request = cognito::sign_up(&client_id(), &email_v, &pw_v);
        run(&line_el, net::cognito(request), move |_| {
            go(&format!("/confirm?email={}", api::encode(&email_v)))
        });
    })
    .child(email_l)
    .child(pw_l)
    .child(hint)
    .child(submit("Create account"))
    .child(line)
    .child(link("/signin", "I already have an account"))
}

pub(super) fn confirm() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    email.set_value(&query_param("email").unwrap_or_default());
    let (code_l, code) = field("Code from the e-mail", "text", "code");
    let _ = code.set_attribute("inputmode", "numeric");
    let _ = code.set_attribute("autocomplete", "one-time-code");
    let line = status();
    let (line_a, line_b) = (line.element(), line.element());
    let email_b = email.clone();
    card("Confirm your account", move || {
        let email_v = value(&email);
        let request = cognito::confirm_sign_up(&client_id(), &email_v, &value(&code));
        run(&line_a, net::cognito(request), move |_| {
            to_sign_in(&email_v, "confirmed")
        });
    })
    .child(el("p").text("We e-mailed you a code. Enter it here to finish creating your account."))
    .child(email_l)
    .child(code_l)
    .child(submit("Confirm"))
    .child(
        button("Send a new code")
            .class("secondary")
            .on("click", move |_| {
                let request = cognito::resend_confirmation_code(&client_id(), &value(&email_b));
                let line = line_b.clone();
                run(&line_b, net::cognito(request), move |_| {
                    say(&line, "A new code is on its way.", false)
                });
            }),
    )
    .child(line)
}

pub(super) fn reset() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    let (code_l, code) = field("Code from the e-mail", "text", "code");
    let (pw_l, pw) = field("New password", "password", "password");
    let _ = pw.set_attribute("autocomplete", "new-password");
    let hint = password_hint(&pw);
    // Required only once shown: a hidden required field would block the first step's submit.
    let _ = code.remove_attribute("required");
    let _ = pw.remove_attribute("required");
    let step2 = el("div")
        .attr("hidden", "")
        .child(code_l)
        .child(pw_l)
        .child(hint);
    let step2_el = step2.element();
    let line = status();
    let line_el = line.element();
    let asked = Rc::new(RefCell::new(false));
    card("Reset your password", move || {
        let email_v = value(&email);
        if !*asked.borrow() {
            let (line, step2) = (line_el.clone(), step2_el.clone());
            let (code, pw, asked) = (code.clone(), pw.clone(), asked.clone());
            let request = cognito::forgot_password(&client_id(), &email_v);
            run(&line_el, net::cognito(request), move |_| {
                *asked.borrow_mut() = true;
                let _ = step2.remove_attribute("hidden");
                let _ = code.set_attribute("required", "");
                let _ = pw.set_attribute("required", "");
                say(
                    &line,
                    "We e-mailed you a code: enter it with your new password.",
                    false,
                );
            });
        } else {
            let request = cognito::confirm_forgot_password(
                &client_id(),
                &email_v,
                &value(&code),
                &pw.value(),
            );
            run(&line_el, net::cognito(request), move |_| {
                to_sign_in(&email_v, "reset")
            });
        }
    })
    .child(email_l)
    .child(step2)
    .child(submit("Continue"))
    .child(line)
    .child(link("/signin", "Back to sign in"))
}
