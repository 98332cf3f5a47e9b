//! A first look at an ISO-BMFF file (HEIF, AVIF, MP4) that reads only box headers and a few
//! fields, bounds-checked and linear in the file: enough for [`crate::sniff`] to tell an HEVC
//! still image from AVIF, an image sequence or a video, and for the HEIC decoder to count the
//! items before any parser builds a table of them (a tile bomb lists tens of thousands).

/// What the boxes say, as far as they say it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Peek {
    /// The major brand of `ftyp`.
    pub major: [u8; 4],
    /// The compatible brands of `ftyp`.
    pub compatible: Vec<[u8; 4]>,
    /// Whether a `meta` box is present at the top level.
    pub meta: bool,
    /// Whether a `moov` box (a track: video or an image sequence) is present at the top level.
    pub moov: bool,
    /// The item count `iinf` declares.
    pub items: u32,
    /// The largest of the other tables' lengths: items located (`iloc`), property associations
    /// (`ipma`), references (`iref`), and properties (`ipco`, counted per four, since each tile
    /// may have a few of its own).
    pub tables: u32,
    /// The type of the primary item (`hvc1`, `grid`, `av01`, …).
    pub primary_type: Option<[u8; 4]>,
    /// The type of the first item a derived primary image (a grid) is made of.
    pub first_input_type: Option<[u8; 4]>,
}

impl Peek {
    /// Whether the major or a compatible brand is `brand`.
    pub fn has_brand(&self, brand: &[u8; 4]) -> bool {
        &self.major == brand || self.compatible.iter().any(|b| b == brand)
    }
}

/// A cursor over big-endian fields.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn uint(&mut self, n: usize) -> Option<u32> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u32, |acc, b| acc << 8 | u32::from(*b)),
        )
    }

    fn fourcc(&mut self) -> Option<[u8; 4]> {
        self.take(4)?.try_into().ok()
    }
}

/// The boxes directly inside `bytes`, as `(type, body)`; stops at the first malformed header.
fn boxes(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let mut r = Reader::new(rest);
        let size = r.uint(4)? as u64;
        let kind = r.fourcc()?;
        let (header, size) = match size {
            0 => (8, rest.len() as u64),
            1 => {
                let high = u64::from(r.uint(4)?);
                (16, high << 32 | u64::from(r.uint(4)?))
            }
            n => (8, n),
        };
        let size = usize::try_from(size).ok()?;
        if size < header {
            return None;
        }
        // A box running past the end is cut short (a truncated file): its body is what exists.
        let end = size.min(rest.len());
        let body = rest.get(header..end)?;
        rest = &rest[end..];
        Some((kind, body))
    })
}

/// Reads `ftyp`, then `meta`'s `pitm`, `iinf` and `iref`, as far as they are present and whole.
/// `None` when the file does not start with an `ftyp` box.
pub(crate) fn peek(bytes: &[u8]) -> Option<Peek> {
    let mut top = boxes(bytes);
    let (kind, ftyp) = top.next()?;
    if &kind != b"ftyp" {
        return None;
    }
    let mut r = Reader::new(ftyp);
    let mut peek = Peek {
        major: r.fourcc()?,
        ..Peek::default()
    };
    r.take(4)?; // minor version
    while let Some(brand) = r.fourcc() {
        peek.compatible.push(brand);
    }
    for (kind, body) in top {
        match &kind {
            b"moov" => peek.moov = true,
            b"meta" if !peek.meta => {
                peek.meta = true;
                read_meta(body.get(4..).unwrap_or_default(), &mut peek);
            }
            _ => {}
        }
    }
    Some(peek)
}

fn read_meta(meta: &[u8], peek: &mut Peek) {
    let mut primary = None;
    let mut types: Vec<(u32, [u8; 4])> = Vec::new();
    let mut first_input = None;
    // `iref` may come before `pitm`: keep every `dimg` source's first input and pick later.
    let mut inputs: Vec<(u32, u32)> = Vec::new();
    for (kind, body) in boxes(meta) {
        let mut r = Reader::new(body);
        let Some(version) = r.uint(1) else { continue };
        r.take(3); // flags
        let id_size = if version == 0 { 2 } else { 4 };
        match &kind {
            b"pitm" => primary = r.uint(id_size),
            b"iinf" => {
                peek.items = r.uint(id_size).unwrap_or(0);
                for (kind, infe) in boxes(body.get(4 + id_size..).unwrap_or_default()) {
                    if let (b"infe", Some(entry)) = (&kind, item_type(infe)) {
                        types.push(entry);
                    }
                }
            }
            b"iloc" => {
                let count = if version < 2 { 2 } else { 4 };
                r.take(2); // field sizes
                peek.tables = peek.tables.max(r.uint(count).unwrap_or(0));
            }
            b"iprp" => {
                // Not a full box: `body` starts with its children.
                for (kind, child) in boxes(body) {
                    match &kind {
                        b"ipco" => {
                            let count = boxes(child).count() as u32;
                            peek.tables = peek.tables.max(count.div_ceil(4));
                        }
                        b"ipma" => {
                            let entries = Reader::new(child.get(4..).unwrap_or_default()).uint(4);
                            peek.tables = peek.tables.max(entries.unwrap_or(0));
                        }
                        _ => {}
                    }
                }
            }
            b"iref" => {
                let references = boxes(body.get(4..).unwrap_or_default()).count() as u32;
                peek.tables = peek.tables.max(references);
                for (kind, reference) in boxes(body.get(4..).unwrap_or_default()) {
                    let mut r = Reader::new(reference);
                    if &kind != b"dimg" {
                        continue;
                    }
                    let (Some(from), Some(count)) = (r.uint(id_size), r.uint(2)) else {
                        continue;
                    };
                    if let (true, Some(to)) = (count > 0, r.uint(id_size)) {
                        inputs.push((from, to));
                    }
                }
            }
            _ => {}
        }
    }
    let type_of = |id: u32| types.iter().find(|(i, _)| *i == id).map(|(_, t)| *t);
    if let Some(primary) = primary {
        peek.primary_type = type_of(primary);
        first_input = inputs
            .iter()
            .find(|(from, _)| *from == primary)
            .map(|(_, to)| *to);
    }
    peek.first_input_type = first_input.and_then(type_of);
}

/// `(item id, item type)` of an `infe` box of version 2 or 3 (earlier versions have no type).
fn item_type(infe: &[u8]) -> Option<(u32, [u8; 4])> {
    let mut r = Reader::new(infe);
    let version = r.uint(1)?;
    r.take(3)?;
    let id = match version {
        2 => r.uint(2)?,
        3 => r.uint(4)?,
        _ => return None,
    };
    r.take(2)?; // protection index
    Some((id, r.fourcc()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(body);
        out
    }

    fn infe(id: u16, kind: &[u8; 4]) -> Vec<u8> {
        let mut body = vec![2, 0, 0, 0];
        body.extend(id.to_be_bytes());
        body.extend([0, 0]);
        body.extend(kind);
        body.push(0);
        bx(b"infe", &body)
    }

    /// A file with a grid of `tile` items as its primary item (id 1), tiles 2 and 3.
    fn grid_file(tile: &[u8; 4]) -> Vec<u8> {
        let mut iinf = vec![0, 0, 0, 0, 0, 3];
        iinf.extend(infe(1, b"grid"));
        iinf.extend(infe(2, tile));
        iinf.extend(infe(3, tile));
        let dimg = bx(b"dimg", &[0, 1, 0, 2, 0, 2, 0, 3]);
        let mut meta = vec![0; 4];
        meta.extend(bx(b"iref", &[&[0, 0, 0, 0][..], &dimg].concat()));
        meta.extend(bx(b"pitm", &[0, 0, 0, 0, 0, 1]));
        meta.extend(bx(b"iinf", &iinf));
        let mut out = bx(b"ftyp", b"mif1\0\0\0\0mif1miaf");
        out.extend(bx(b"meta", &meta));
        out
    }

    #[test]
    fn reads_brands_and_the_primary_item() {
        let p = peek(&grid_file(b"hvc1")).expect("an ISO-BMFF file");
        assert_eq!(&p.major, b"mif1");
        assert!(p.has_brand(b"miaf") && !p.has_brand(b"heic"));
        assert!(p.meta && !p.moov);
        assert_eq!(p.items, 3);
        assert_eq!(p.tables, 1);
        assert_eq!(p.primary_type, Some(*b"grid"));
        assert_eq!(p.first_input_type, Some(*b"hvc1"));
        let p = peek(&grid_file(b"av01")).expect("an ISO-BMFF file");
        assert_eq!(p.first_input_type, Some(*b"av01"));
    }

    #[test]
    fn every_prefix_peeks_without_panic() {
        let file = grid_file(b"hvc1");
        for len in 0..file.len() {
            let _ = peek(&file[..len]);
        }
        assert_eq!(peek(b"\0\0\0\x08free"), None);
        assert_eq!(peek(&[0xFF; 40]), None);
    }
}
