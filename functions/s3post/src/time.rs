//! UTC timestamps in the two shapes SigV4 POST uses, without a date-time dependency.
//!
//! `x-amz-date` is `20261124T202500Z`; the policy's `expiration` is ISO 8601 with milliseconds,
//! `2026-11-24T20:40:00.000Z`. Both are seconds since the Unix epoch underneath.

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).expect("day of month is 1..=31");
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).expect("month is 1..=12");
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
}

fn parts(epoch: u64) -> Parts {
    let days = i64::try_from(epoch / 86_400).unwrap_or(i64::MAX / 2);
    let (year, month, day) = civil_from_days(days);
    let rest = epoch % 86_400;
    Parts {
        year,
        month,
        day,
        hour: rest / 3600,
        minute: rest % 3600 / 60,
        second: rest % 60,
    }
}

/// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form.
pub(crate) fn amz_date(epoch: u64) -> String {
    let p = parts(epoch);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second
    )
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`, the policy `expiration` form.
pub(crate) fn iso8601(epoch: u64) -> String {
    let p = parts(epoch);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        p.year, p.month, p.day, p.hour, p.minute, p.second
    )
}

fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn epoch_of(year: u64, month: u64, day: u64, hour: u64, minute: u64, second: u64) -> Option<u64> {
    let month = u32::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    if hour > 23 || minute > 59 || second > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    let year = i64::try_from(year).ok()?;
    // Refuse dates like February 30 rather than rolling them over.
    if civil_from_days(days_from_civil(year, month, day)) != (year, month, day) {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fff]Z` (the only shape S3 documents for `expiration`).
/// Fractional seconds are dropped: expiry is checked to the second.
pub(crate) fn parse_iso8601(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-');
    let (year, month, day) = (date.next()?, date.next()?, date.next()?);
    if date.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (time, fraction) = match time.split_once('.') {
        Some((time, fraction)) => (time, Some(fraction)),
        None => (time, None),
    };
    if fraction.is_some_and(|f| number(f).is_none()) {
        return None;
    }
    let mut time = time.split(':');
    let (hour, minute, second) = (time.next()?, time.next()?, time.next()?);
    if time.next().is_some() || hour.len() != 2 || minute.len() != 2 || second.len() != 2 {
        return None;
    }
    epoch_of(
        number(year)?,
        number(month)?,
        number(day)?,
        number(hour)?,
        number(minute)?,
        number(second)?,
    )
}

/// Reads `YYYYMMDDTHHMMSSZ`. Any text is safe to pass: the value comes from an unauthenticated
/// form, so it is read with checked slices, never indexed at byte offsets that may fall inside a
/// multi-byte character.
pub(crate) fn parse_amz_date(text: &str) -> Option<u64> {
    if text.len() != 16 || !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    if bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| number(text.get(range)?);
    epoch_of(
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?,
        digits(13..15)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(epoch: u64, amz: &str, iso: &str) {
        assert_eq!(amz_date(epoch), amz);
        assert_eq!(iso8601(epoch), iso);
        assert_eq!(parse_amz_date(amz), Some(epoch), "{amz}");
        assert_eq!(parse_iso8601(iso), Some(epoch), "{iso}");
    }

    #[test]
    fn formats_and_parses_known_instants() {
        check(0, "19700101T000000Z", "1970-01-01T00:00:00.000Z");
        // The AWS SigV4 documentation's example instant.
        check(
            1_440_938_160,
            "20150830T123600Z",
            "2015-08-30T12:36:00.000Z",
        );
        check(951_782_400, "20000229T000000Z", "2000-02-29T00:00:00.000Z");
        check(
            1_795_552_245,
            "20261124T203045Z",
            "2026-11-24T20:30:45.000Z",
        );
        check(
            4_102_444_799,
            "20991231T235959Z",
            "2099-12-31T23:59:59.000Z",
        );
    }

    #[test]
    fn refuses_malformed_instants() {
        assert_eq!(parse_iso8601("2026-11-24T20:30:45Z"), Some(1_795_552_245));
        assert_eq!(
            parse_iso8601("2026-11-24T20:30:45.999Z"),
            Some(1_795_552_245)
        );
        for bad in [
            "",
            "2026-11-24T20:30:45",
            "2026-11-24 20:30:45Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T20:30:45.Z",
            "+2026-11-24T20:30:45Z",
            "2026-1-24T20:30:45Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad:?}");
        }
        for bad in [
            "",
            "20261124T203045",
            "20261124 203045Z",
            "2026112AT203045Z",
            "20260230T000000Z",
            // Sixteen bytes with `T` and `Z` in place, but a multi-byte character where the
            // month is: a byte-offset slice would cut it in half.
            "2026\u{20ac}2T203045Z",
            "\u{e9}026112T203045Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }
}
