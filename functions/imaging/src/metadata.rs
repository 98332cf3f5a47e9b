//! Reads what the app shows about a photo from its EXIF block: orientation, when it was taken,
//! the camera and where. A missing or broken EXIF block is not an error: the photo still counts.

use std::fmt;
use std::io::Cursor;

use exif::{Exif, In, Tag, Value};

/// How the stored pixels must be turned to show the photo upright (EXIF tag 0x0112; for HEIC,
/// what its `irot` and `imir` properties add up to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left to right.
    FlipHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top to bottom.
    FlipVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: must be turned 90° clockwise.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: must be turned 90° counter-clockwise.
    Rotate270,
}

impl Orientation {
    /// The orientation for an EXIF value; out-of-range values mean "as stored", as browsers do.
    pub fn from_exif(value: u32) -> Orientation {
        match value {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// The EXIF value, 1–8.
    pub fn exif_value(self) -> u8 {
        match self {
            Orientation::Normal => 1,
            Orientation::FlipHorizontal => 2,
            Orientation::Rotate180 => 3,
            Orientation::FlipVertical => 4,
            Orientation::Transpose => 5,
            Orientation::Rotate90 => 6,
            Orientation::Transverse => 7,
            Orientation::Rotate270 => 8,
        }
    }

    /// Whether applying it swaps width and height.
    pub fn swaps_sides(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// `(width, height)` once applied to an image stored as `(width, height)`.
    pub fn oriented(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_sides() {
            (height, width)
        } else {
            (width, height)
        }
    }
}

/// When the shutter fired, as the camera's clock said (EXIF `DateTimeOriginal`), with the
/// offset from UTC when the camera recorded it (`OffsetTimeOriginal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TakenAt {
    /// Year, e.g. 2024.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60.
    pub second: u8,
    /// Offset from UTC in minutes, when the camera wrote one.
    pub offset_minutes: Option<i16>,
}

impl fmt::Display for TakenAt {
    /// ISO 8601: `2024-06-01T14:03:09` or, with an offset, `2024-06-01T14:03:09+02:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if let Some(offset) = self.offset_minutes {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)?;
        }
        Ok(())
    }
}

/// The camera that took the photo (EXIF `Make` and `Model`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Camera {
    /// Manufacturer, e.g. `Canon`.
    pub make: Option<String>,
    /// Model, e.g. `Canon EOS R6`.
    pub model: Option<String>,
}

/// Where the photo was taken, in decimal degrees (WGS 84, as GPS reports it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPosition {
    /// Latitude, north positive, −90…90.
    pub latitude: f64,
    /// Longitude, east positive, −180…180.
    pub longitude: f64,
}

/// What EXIF says about a photo; every field is optional because most uploads lack some.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExifSummary {
    /// How to turn the pixels upright.
    pub orientation: Orientation,
    /// When it was taken.
    pub taken_at: Option<TakenAt>,
    /// Which camera.
    pub camera: Option<Camera>,
    /// Where.
    pub gps: Option<GpsPosition>,
}

/// Reads the EXIF block of a JPEG, PNG (`eXIf`), WebP (`EXIF` chunk) or HEIC (`Exif` item) file.
/// Anything unreadable yields the empty summary: a photo with a damaged EXIF block is still a
/// photo.
///
/// A HEIC file's orientation is that of its `irot` and `imir` properties, whatever its EXIF
/// orientation tag says: HEIF stores the transforms in the container, and the EXIF tag is only a
/// record of how the camera was held, which libheif and browsers ignore too.
pub fn read_exif(bytes: &[u8]) -> ExifSummary {
    if crate::sniff(bytes) == Ok(crate::Format::Heic) {
        let Some((tiff, orientation)) =
            crate::decode::heic::exif_and_orientation(bytes, &crate::Settings::default())
        else {
            return ExifSummary::default();
        };
        let summary = tiff
            .and_then(|tiff| exif::Reader::new().read_raw(tiff).ok())
            .map(|exif| summarize(&exif))
            .unwrap_or_default();
        return ExifSummary {
            orientation,
            ..summary
        };
    }
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => summarize(&exif),
        Err(_) => ExifSummary::default(),
    }
}

fn summarize(exif: &Exif) -> ExifSummary {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .map(Orientation::from_exif)
        .unwrap_or_default();
    let make = ascii(exif, Tag::Make);
    let model = ascii(exif, Tag::Model);
    let camera = (make.is_some() || model.is_some()).then_some(Camera { make, model });
    ExifSummary {
        orientation,
        taken_at: taken_at(exif),
        camera,
        gps: gps(exif),
    }
}

/// The first string of an ASCII field, trimmed of the padding cameras add.
fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let text = String::from_utf8_lossy(parts.first()?);
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_owned())
}

fn ascii_bytes(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

fn taken_at(exif: &Exif) -> Option<TakenAt> {
    let raw = ascii_bytes(exif, Tag::DateTimeOriginal)?;
    let mut parsed = exif::DateTime::from_ascii(raw).ok()?;
    if let Some(offset) = ascii_bytes(exif, Tag::OffsetTimeOriginal) {
        // A malformed offset leaves the local time valid, so ignore its error.
        let _ = parsed.parse_offset(offset);
    }
    let valid = (1..=12).contains(&parsed.month)
        && (1..=31).contains(&parsed.day)
        && parsed.hour < 24
        && parsed.minute < 60
        && parsed.second <= 60;
    valid.then_some(TakenAt {
        year: parsed.year,
        month: parsed.month,
        day: parsed.day,
        hour: parsed.hour,
        minute: parsed.minute,
        second: parsed.second,
        offset_minutes: parsed.offset,
    })
}

/// Degrees, minutes, seconds (three rationals) to decimal degrees, signed by the reference.
fn coordinate(exif: &Exif, value: Tag, reference: Tag, negative: u8, max: f64) -> Option<f64> {
    let Value::Rational(dms) = &exif.get_field(value, In::PRIMARY)?.value else {
        return None;
    };
    let part = |i: usize| {
        dms.get(i)
            .filter(|r| r.denom != 0)
            .map(|r| r.to_f64())
            .unwrap_or(0.0)
    };
    let first = dms.first().filter(|r| r.denom != 0)?.to_f64();
    let degrees = first + part(1) / 60.0 + part(2) / 3600.0;
    let sign = match ascii_bytes(exif, reference).and_then(|r| r.first()) {
        Some(r) if r.eq_ignore_ascii_case(&negative) => -1.0,
        _ => 1.0,
    };
    let decimal = sign * degrees;
    (decimal.is_finite() && decimal.abs() <= max).then_some(decimal)
}

fn gps(exif: &Exif) -> Option<GpsPosition> {
    Some(GpsPosition {
        latitude: coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S', 90.0)?,
        longitude: coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W', 180.0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_round_trips_and_tolerates_junk() {
        for value in 1..=8 {
            assert_eq!(u32::from(Orientation::from_exif(value).exif_value()), value);
        }
        assert_eq!(Orientation::from_exif(0), Orientation::Normal);
        assert_eq!(Orientation::from_exif(9), Orientation::Normal);
        assert_eq!(Orientation::Rotate90.oriented(30, 20), (20, 30));
        assert_eq!(Orientation::Rotate180.oriented(30, 20), (30, 20));
    }

    #[test]
    fn taken_at_prints_iso_8601() {
        let mut t = TakenAt {
            year: 2024,
            month: 6,
            day: 1,
            hour: 14,
            minute: 3,
            second: 9,
            offset_minutes: None,
        };
        assert_eq!(t.to_string(), "2024-06-01T14:03:09");
        t.offset_minutes = Some(-330);
        assert_eq!(t.to_string(), "2024-06-01T14:03:09-05:30");
        t.offset_minutes = Some(120);
        assert_eq!(t.to_string(), "2024-06-01T14:03:09+02:00");
    }

    #[test]
    fn garbage_exif_reads_as_empty() {
        assert_eq!(read_exif(b"not an image"), ExifSummary::default());
        assert_eq!(
            read_exif(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF]),
            ExifSummary::default()
        );
    }
}
