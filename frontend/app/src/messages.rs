//! Sentences shown to the user, from API error codes and upload states. Kept apart from the
//! UI so every code has a tested message.

use crate::api::{ApiError, Usage};

/// The sentence for an API error. Known codes get a sentence of ours; the API's own message
/// is appended for limits, where it carries the numbers (maximum size, remaining quota).
pub fn api_error(error: &ApiError) -> String {
    let detail = |base: &str| {
        if error.message.is_empty() {
            base.to_owned()
        } else {
            format!("{base} ({})", error.message)
        }
    };
    match error.code.as_str() {
        "too_large" => detail("This file is too large."),
        "unsupported_type" => {
            "This file type is not supported: upload JPEG, PNG, WebP or HEIC photos.".into()
        }
        "duplicate" => "You have already uploaded this photo.".into(),
        "quota_exceeded" => detail("Your storage is full; delete some photos to upload more."),
        "not_found" | "http_404" => "This item does not exist or was deleted.".into(),
        "password_required" => "This link is protected: enter its password.".into(),
        "wrong_password" => "That password is not right.".into(),
        "share_gone" | "http_410" => {
            "This link has expired or was revoked. Ask the person who shared it for a new one."
                .into()
        }
        "unauthorized" | "http_401" => "Your session has ended; please sign in again.".into(),
        "forbidden" | "http_403" => "You are not allowed to do that.".into(),
        "invalid_input" | "http_400" | "http_422" => detail("The request was refused."),
        "conflict" | "http_409" => {
            "Someone changed this at the same time; reload and try again.".into()
        }
        "invalid_cursor" => "The list changed while loading; reload the page.".into(),
        "auth_unavailable" => "Sign-in is unavailable for a moment; try again shortly.".into(),
        "network" => "Could not reach the server; check your connection and try again.".into(),
        "http_429" => "Too many requests; wait a moment and try again.".into(),
        _ => "Something went wrong on our side; try again in a moment.".into(),
    }
}

/// Whether retrying the same request can succeed (network trouble, server errors), as opposed
/// to a refusal that will happen again.
pub fn is_retryable(error: &ApiError) -> bool {
    matches!(error.code.as_str(), "network" | "http_429")
        || error
            .code
            .strip_prefix("http_5")
            .is_some_and(|rest| rest.len() == 2)
        || !error.code.starts_with("http_")
            && !matches!(
                error.code.as_str(),
                "too_large"
                    | "unsupported_type"
                    | "duplicate"
                    | "quota_exceeded"
                    | "not_found"
                    | "forbidden"
                    | "invalid_input"
                    | "invalid_cursor"
                    | "conflict"
                    | "password_required"
                    | "wrong_password"
                    | "share_gone"
                    | "bad_response"
            )
}

/// A byte count for people: `512 B`, `1.5 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The storage line under the gallery's title: `3 photos · 1.2 MB of 5.0 GB used`.
pub fn usage(u: &Usage) -> String {
    let photos = match u.photo_count {
        1 => "1 photo".to_owned(),
        n => format!("{n} photos"),
    };
    format!(
        "{photos} · {} of {} used",
        bytes(u.used_bytes),
        bytes(u.quota_bytes)
    )
}

/// The day of an RFC 3339 time for people, `1 Dec 2026` (UTC); anything else is shown as given.
pub fn day(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts = rfc3339.get(..10).map(|d| {
        let mut it = d.split('-').map(str::parse::<u32>);
        (it.next(), it.next(), it.next())
    });
    match parts {
        Some((Some(Ok(y)), Some(Ok(m @ 1..=12)), Some(Ok(d @ 1..=31)))) => {
            format!("{d} {} {y}", MONTHS[m as usize - 1])
        }
        _ => rfc3339.to_owned(),
    }
}

/// The rules of the user pool's passwords, as a hint beside the field: `At least 12
/// characters, with a lower-case letter, an upper-case letter, a digit and a symbol.`
pub fn password_rules(policy: &photo_contract::users::PasswordPolicy) -> String {
    let wanted = [
        (policy.require_lowercase, "a lower-case letter"),
        (policy.require_uppercase, "an upper-case letter"),
        (policy.require_numbers, "a digit"),
        (policy.require_symbols, "a symbol"),
    ];
    let parts: Vec<&str> = wanted
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| *t)
        .collect();
    let mut out = format!("At least {} characters", policy.minimum_length);
    match parts.as_slice() {
        [] => {}
        [one] => out.push_str(&format!(", with {one}")),
        [init @ .., last] => out.push_str(&format!(", with {} and {last}", init.join(", "))),
    }
    out.push('.');
    out
}

/// A share link's password, as the API takes it (`photo_domain::password`).
pub const SHARE_PASSWORD_CHARS: (usize, usize) = (8, 128);

/// The rules of a share link's password, as a hint beside the field.
pub fn share_password_rules() -> String {
    let (min, max) = SHARE_PASSWORD_CHARS;
    format!("Optional: {min} to {max} characters. Whoever opens the link is asked for it.")
}

/// `1 photo`, `3 photos`.
pub fn photos(n: u64) -> String {
    if n == 1 {
        "1 photo".to_owned()
    } else {
        format!("{n} photos")
    }
}

/// What a photo is, under its name where it is shared: `Photo · 1 Jun 2024`, or `Photo`.
pub fn photo_detail(photo: &crate::api::Photo) -> String {
    match &photo.taken_at_local {
        Some(t) => format!("Photo · {}", day(t)),
        None => "Photo".to_owned(),
    }
}

/// The month of an ISO 8601 date for people, `Jun 2024`.
fn month(iso: &str) -> String {
    let d = day(iso);
    match d.split_once(' ') {
        Some((_, rest)) if d != iso => rest.to_owned(),
        _ => iso.to_owned(),
    }
}

/// What an album holds, under its name: `12 photos · Mar 2019 – Jun 2024` (one month when all
/// its photos are of one; no dates when none says when it was taken).
pub fn album_summary(album: &crate::api::Album) -> String {
    let mut out = photos(album.photo_count);
    if let (Some(from), Some(until)) = (&album.taken_from, &album.taken_until) {
        let (from, until) = (month(from), month(until));
        out.push_str(" · ");
        out.push_str(&from);
        if until != from {
            out.push_str(" – ");
            out.push_str(&until);
        }
    }
    out
}

/// Delays in milliseconds between polls of a pending photo: doubling from one second, capped
/// at 30 seconds, and over after about five minutes so a photo that never finishes stops
/// costing requests.
pub fn poll_delays() -> impl Iterator<Item = u32> {
    std::iter::successors(Some(1_000u32), |d| Some((d * 2).min(30_000))).take(14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_photo_says_when_it_was_taken() {
        let mut p: crate::api::Photo = serde_json::from_str(r#"{"id":"p"}"#).unwrap();
        assert_eq!(photo_detail(&p), "Photo");
        p.taken_at_local = Some("2024-06-01T14:03:09+02:00".into());
        assert_eq!(photo_detail(&p), "Photo · 1 Jun 2024");
    }

    #[test]
    fn album_summaries_say_how_many_and_when() {
        let mut a: crate::api::Album =
            serde_json::from_str(r#"{"id":"a","name":"Trip","photo_count":1}"#).unwrap();
        assert_eq!(album_summary(&a), "1 photo");
        a.photo_count = 4;
        a.taken_from = Some("2024-06-01T10:00:00".into());
        a.taken_until = Some("2024-06-30T10:00:00".into());
        assert_eq!(album_summary(&a), "4 photos · Jun 2024");
        a.taken_until = Some("2025-01-02T10:00:00".into());
        assert_eq!(album_summary(&a), "4 photos · Jun 2024 – Jan 2025");
    }

    #[test]
    fn password_rules_are_the_pool_s_and_the_api_s() {
        assert_eq!(
            password_rules(&photo_contract::users::PASSWORD_POLICY),
            "At least 12 characters, with a lower-case letter, an upper-case letter, a digit and a symbol."
        );
        let mut lax = photo_contract::users::PASSWORD_POLICY;
        (
            lax.require_lowercase,
            lax.require_uppercase,
            lax.require_symbols,
        ) = (false, false, false);
        assert_eq!(
            password_rules(&lax),
            "At least 12 characters, with a digit."
        );
        assert_eq!(
            SHARE_PASSWORD_CHARS,
            (
                photo_domain::password::MIN_CHARS,
                photo_domain::password::MAX_CHARS
            )
        );
    }

    fn check(code: &str, message: &str, expected: &str, retry: bool) {
        let e = ApiError {
            code: code.into(),
            message: message.into(),
        };
        assert_eq!(api_error(&e), expected, "{code}");
        assert_eq!(is_retryable(&e), retry, "{code}");
    }

    #[test]
    fn upload_refusals_have_messages() {
        check(
            "too_large",
            "max 25 MB",
            "This file is too large. (max 25 MB)",
            false,
        );
        check(
            "unsupported_type",
            "x",
            "This file type is not supported: upload JPEG, PNG, WebP or HEIC photos.",
            false,
        );
        check(
            "duplicate",
            "",
            "You have already uploaded this photo.",
            false,
        );
        check(
            "quota_exceeded",
            "",
            "Your storage is full; delete some photos to upload more.",
            false,
        );
    }

    #[test]
    fn api_refusals_are_final() {
        check(
            "share_gone",
            "revoked",
            "This link has expired or was revoked. Ask the person who shared it for a new one.",
            false,
        );
        check(
            "invalid_input",
            "`name`: expected 1 to 200 characters, got 0",
            "The request was refused. (`name`: expected 1 to 200 characters, got 0)",
            false,
        );
        check("wrong_password", "", "That password is not right.", false);
    }

    #[test]
    fn transport_failures_are_retryable() {
        check(
            "network",
            "",
            "Could not reach the server; check your connection and try again.",
            true,
        );
        check(
            "http_503",
            "",
            "Something went wrong on our side; try again in a moment.",
            true,
        );
        check(
            "http_404",
            "",
            "This item does not exist or was deleted.",
            false,
        );
        check(
            "http_5000",
            "",
            "Something went wrong on our side; try again in a moment.",
            false,
        );
        check(
            "internal",
            "",
            "Something went wrong on our side; try again in a moment.",
            true,
        );
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(25 * 1024 * 1024), "25.0 MB");
        assert_eq!(bytes(u64::MAX), "16777216.0 TB");
    }

    #[test]
    fn formats_usage() {
        let mut u = Usage {
            used_bytes: 1536,
            photo_count: 1,
            quota_bytes: 5 * 1024 * 1024 * 1024,
            max_upload_bytes: 50 * 1024 * 1024,
            max_share_days: 30,
        };
        assert_eq!(usage(&u), "1 photo · 1.5 KB of 5.0 GB used");
        u.photo_count = 0;
        u.used_bytes = 0;
        assert_eq!(usage(&u), "0 photos · 0 B of 5.0 GB used");
    }

    #[test]
    fn formats_days() {
        assert_eq!(day("2026-12-01T23:09:22.768Z"), "1 Dec 2026");
        assert_eq!(day("2024-05-31T10:00:00+02:00"), "31 May 2024");
        assert_eq!(day("2024-13-01T00:00:00Z"), "2024-13-01T00:00:00Z");
        assert_eq!(day("soon"), "soon");
        assert_eq!(day(""), "");
    }

    #[test]
    fn polling_backs_off_and_stops() {
        let delays: Vec<u32> = poll_delays().collect();
        assert_eq!(&delays[..6], [1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
        assert!(delays.iter().all(|d| *d <= 30_000));
        let total: u32 = delays.iter().sum();
        assert!((240_000..=400_000).contains(&total), "{total}");
    }
}
