//! What the timeline shows, worked out on the host: where a photo sits (its date taken on the
//! camera's clock, as the API orders it), the date headers it falls under (a day for recent
//! photos, a month for older ones), how wide its tile is, and how its details read in the
//! lightbox.

use crate::api::Photo;
use crate::messages;

/// Photos taken within this many days of today are grouped by day; older ones by month.
pub const RECENT_DAYS: i64 = 30;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The date at the start of an ISO 8601 text (`2024-06-01T...`).
    pub fn parse(text: &str) -> Option<Date> {
        let d = text.get(..10)?;
        let mut it = d.split('-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn weekday(self) -> &'static str {
        // 1970-01-01 was a Thursday.
        WEEKDAYS[(self.days() + 3).rem_euclid(7) as usize]
    }

    fn month_name(self) -> &'static str {
        MONTHS[self.month as usize - 1]
    }
}

/// The wall-clock time that places a photo: when it was taken on the camera's clock, else
/// when its upload started (the API's order for `/photos/timeline`).
pub fn wall_clock(photo: &Photo) -> &str {
    photo
        .taken_at_local
        .as_deref()
        .filter(|t| Date::parse(t).is_some())
        .unwrap_or(&photo.created_at)
}

/// Orders photos as the timeline does, newest first: a larger key comes first.
pub fn sort_key(photo: &Photo) -> (String, String) {
    let at = wall_clock(photo);
    (at.get(..19).unwrap_or(at).to_owned(), photo.id.clone())
}

/// A date header of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heading {
    /// `YYYY-MM-DD`.
    Day(Date),
    /// `YYYY-MM`.
    Month(i32, u32),
}

impl Heading {
    /// The header a photo taken on `date` falls under, seen on `today`.
    pub fn of(date: Date, today: Date) -> Heading {
        if today.days() - date.days() < RECENT_DAYS {
            Heading::Day(date)
        } else {
            Heading::Month(date.year, date.month)
        }
    }

    /// The header of a photo, seen on `today`; `None` when it has no readable date.
    pub fn of_photo(photo: &Photo, today: Date) -> Option<Heading> {
        Date::parse(wall_clock(photo)).map(|d| Heading::of(d, today))
    }

    /// A stable key: `2024-06-01` or `2024-06`.
    pub fn key(&self) -> String {
        match self {
            Heading::Day(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
            Heading::Month(y, m) => format!("{y:04}-{m:02}"),
        }
    }

    /// The month it is in, `YYYY-MM` (what the scrubber jumps to).
    pub fn month(&self) -> String {
        match self {
            Heading::Day(d) => format!("{:04}-{:02}", d.year, d.month),
            Heading::Month(y, m) => format!("{y:04}-{m:02}"),
        }
    }

    /// What the header says: `Today`, `Yesterday`, `Saturday 28 November`, or `March 2025`.
    pub fn label(&self, today: Date) -> String {
        match self {
            Heading::Day(d) if *d == today => "Today".to_owned(),
            Heading::Day(d) if today.days() - d.days() == 1 => "Yesterday".to_owned(),
            Heading::Day(d) if d.year == today.year => {
                format!("{} {} {}", d.weekday(), d.day, d.month_name())
            }
            Heading::Day(d) => format!("{} {} {} {}", d.weekday(), d.day, d.month_name(), d.year),
            Heading::Month(y, m) => format!("{} {y}", MONTHS[*m as usize - 1]),
        }
    }
}

/// A month of the scrubber, `2024-06`, for people: `June 2024`.
pub fn month_label(month: &str) -> String {
    match Date::parse(&format!("{month}-01")) {
        Some(d) => format!("{} {}", d.month_name(), d.year),
        None => month.to_owned(),
    }
}

/// A tile's width for each pixel of row height, in thousandths: the photo's aspect ratio, from
/// which the style sheet makes the tile grow from a base width at the row height and keep its
/// shape (so a placeholder has its final size before the thumbnail arrives). It is
/// square while it is unknown (pending), and kept between 1:3 and 3:1 so a panorama does not
/// take a row of its own nor a sliver vanish.
pub fn aspect_milli(photo: &Photo) -> u32 {
    match photo.dimensions {
        Some(d) if d.width > 0 && d.height > 0 => {
            (u64::from(d.width) * 1000 / u64::from(d.height)).clamp(333, 3000) as u32
        }
        _ => 1000,
    }
}

/// When a photo was taken, for its details: `Saturday 1 June 2024, 14:03 (UTC+02:00)`.
pub fn taken(photo: &Photo) -> Option<String> {
    let local = photo.taken_at_local.as_deref()?;
    let date = Date::parse(local)?;
    let time = local.get(11..16).unwrap_or("");
    let offset = local.get(19..).filter(|o| !o.is_empty());
    let mut out = format!(
        "{} {} {} {}",
        date.weekday(),
        date.day,
        date.month_name(),
        date.year
    );
    if !time.is_empty() {
        out.push_str(", ");
        out.push_str(time);
    }
    if let Some(o) = offset {
        out.push_str(if o == "Z" { " (UTC)" } else { " (UTC" });
        if o != "Z" {
            out.push_str(o);
            out.push(')');
        }
    }
    Some(out)
}

/// A photo's details for its owner, in the order the lightbox's info panel shows them.
pub fn details(photo: &Photo) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(t) = taken(photo) {
        out.push(("Taken", t));
    }
    if let Some(c) = &photo.camera {
        out.push(("Camera", c.clone()));
    }
    if let Some(d) = photo.dimensions {
        let mp = u64::from(d.width) * u64::from(d.height);
        out.push((
            "Dimensions",
            format!(
                "{} × {} ({}.{} MP)",
                d.width,
                d.height,
                mp / 1_000_000,
                mp % 1_000_000 / 100_000
            ),
        ));
    }
    if photo.size > 0 {
        out.push(("Size", messages::bytes(photo.size)));
    }
    if let Some(g) = &photo.gps {
        out.push(("Location", format!("{:.5}, {:.5}", g.latitude, g.longitude)));
    }
    if !photo.file_name.is_empty() {
        out.push(("File", photo.file_name.clone()));
    }
    if !photo.created_at.is_empty() {
        out.push(("Uploaded", messages::day(&photo.created_at)));
    }
    if let Some(reason) = &photo.failure_reason {
        out.push(("Problem", reason.clone()));
    }
    out
}

/// A shared photo's caption: its title and the day it was taken, as far as they are known.
pub fn caption(photo: &Photo) -> Option<String> {
    let title = photo.title.trim();
    let day = photo
        .taken_at_local
        .as_deref()
        .and_then(Date::parse)
        .map(|d| format!("{} {} {}", d.day, &d.month_name()[..3], d.year));
    match (title.is_empty(), day) {
        (true, None) => None,
        (true, Some(day)) => Some(day),
        (false, None) => Some(title.to_owned()),
        (false, Some(day)) => Some(format!("{title} · {day}")),
    }
}

/// The photos of a range a shift-click selects: from the anchor to the clicked one, either
/// way, both included; just the clicked one when the anchor is gone.
pub fn range<'a>(order: &'a [String], anchor: Option<&str>, clicked: &str) -> &'a [String] {
    let Some(to) = order.iter().position(|x| x == clicked) else {
        return &[];
    };
    let from = anchor
        .and_then(|a| order.iter().position(|x| x == a))
        .unwrap_or(to);
    &order[from.min(to)..=from.max(to)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Dimensions, Gps};

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn photo(id: &str, created: &str, taken: Option<&str>) -> Photo {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "created_at": created,
            "taken_at_local": taken,
            "status": "READY",
        }))
        .unwrap()
    }

    #[test]
    fn days_and_weekdays_are_the_calendar_s() {
        assert_eq!(date("1970-01-01").days(), 0);
        assert_eq!(date("2000-03-01").days(), 11_017);
        assert_eq!(date("1965-12-31").days(), -1_462);
        assert_eq!(date("2026-12-02").weekday(), "Wednesday");
        assert_eq!(date("2024-02-29").weekday(), "Thursday");
        assert_eq!(Date::parse("2024-13-01"), None);
        assert_eq!(Date::parse("soon"), None);
    }

    #[test]
    fn recent_photos_are_grouped_by_day_and_older_ones_by_month() {
        let today = date("2026-12-02");
        let h = |d: &str| Heading::of(date(d), today);
        assert_eq!(h("2026-12-02").label(today), "Today");
        assert_eq!(h("2026-12-01").label(today), "Yesterday");
        assert_eq!(h("2026-11-28").label(today), "Saturday 28 November");
        assert_eq!(h("2026-11-28").key(), "2026-11-28");
        assert_eq!(h("2026-11-03").key(), "2026-11-03");
        // Thirty days back and more: the month.
        assert_eq!(h("2026-11-02").key(), "2026-11");
        assert_eq!(h("2026-11-02").label(today), "November 2026");
        assert_eq!(h("1965-06-15").label(today), "June 1965");
        // A camera whose clock is ahead: still a day.
        assert_eq!(h("2027-01-05").label(today), "Tuesday 5 January 2027");
        assert_eq!(h("2026-11-28").month(), "2026-11");
        assert_eq!(month_label("2024-06"), "June 2024");
    }

    #[test]
    fn a_photo_is_placed_by_its_date_taken_else_its_upload() {
        let dated = photo(
            "a",
            "2026-12-01T10:00:00Z",
            Some("2024-06-01T23:30:00+02:00"),
        );
        let undated = photo("b", "2026-12-01T10:00:00Z", None);
        assert_eq!(wall_clock(&dated), "2024-06-01T23:30:00+02:00");
        assert_eq!(wall_clock(&undated), "2026-12-01T10:00:00Z");
        assert!(sort_key(&undated) > sort_key(&dated));
        let today = date("2026-12-02");
        assert_eq!(
            Heading::of_photo(&dated, today),
            Some(Heading::Month(2024, 6))
        );
        assert_eq!(
            taken(&dated).as_deref(),
            Some("Saturday 1 June 2024, 23:30 (UTC+02:00)")
        );
        let naive = photo("c", "2026-12-01T10:00:00Z", Some("2024-06-01T23:30:00"));
        assert_eq!(
            taken(&naive).as_deref(),
            Some("Saturday 1 June 2024, 23:30")
        );
    }

    #[test]
    fn tiles_keep_the_aspect_ratio_within_bounds() {
        let mut p = photo("a", "2026-12-01T10:00:00Z", None);
        assert_eq!(aspect_milli(&p), 1000);
        p.dimensions = Some(Dimensions {
            width: 4000,
            height: 3000,
        });
        assert_eq!(aspect_milli(&p), 1333);
        p.dimensions = Some(Dimensions {
            width: 12000,
            height: 1000,
        });
        assert_eq!(aspect_milli(&p), 3000);
        p.dimensions = Some(Dimensions {
            width: 100,
            height: 1000,
        });
        assert_eq!(aspect_milli(&p), 333);
    }

    #[test]
    fn details_read_as_people_write_them() {
        let mut p = photo("a", "2026-12-01T10:00:00Z", Some("2024-06-01T14:03:09Z"));
        p.dimensions = Some(Dimensions {
            width: 4032,
            height: 3024,
        });
        p.size = 2_500_000;
        p.camera = Some("Apple iPhone 15".into());
        p.gps = Some(Gps {
            latitude: 48.858_37,
            longitude: 2.294_48,
        });
        p.file_name = "IMG_0001.HEIC".into();
        let d = details(&p);
        let get = |k: &str| d.iter().find(|(x, _)| *x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Taken"), Some("Saturday 1 June 2024, 14:03 (UTC)"));
        assert_eq!(get("Dimensions"), Some("4032 × 3024 (12.1 MP)"));
        assert_eq!(get("Size"), Some("2.4 MB"));
        assert_eq!(get("Location"), Some("48.85837, 2.29448"));
        assert_eq!(get("Camera"), Some("Apple iPhone 15"));
        assert_eq!(get("Uploaded"), Some("1 Dec 2026"));
    }

    #[test]
    fn captions_say_what_is_known() {
        let mut p = photo("a", "2026-12-01T10:00:00Z", None);
        assert_eq!(caption(&p), None);
        p.taken_at_local = Some("2024-06-01T14:03:09+02:00".into());
        assert_eq!(caption(&p).as_deref(), Some("1 Jun 2024"));
        p.title = "Sea".into();
        assert_eq!(caption(&p).as_deref(), Some("Sea · 1 Jun 2024"));
        p.taken_at_local = None;
        assert_eq!(caption(&p).as_deref(), Some("Sea"));
    }

    #[test]
    fn a_shift_click_selects_the_range_either_way() {
        let order: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(range(&order, Some("b"), "d"), &order[1..=3]);
        assert_eq!(range(&order, Some("d"), "b"), &order[1..=3]);
        assert_eq!(range(&order, None, "c"), &order[2..=2]);
        assert_eq!(range(&order, Some("gone"), "c"), &order[2..=2]);
        assert!(range(&order, Some("a"), "gone").is_empty());
    }
}
