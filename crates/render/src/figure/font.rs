//! The one font figures use: DejaVu Sans, compiled into the binary (see
//! `crates/render/assets/fonts/README.md`). It measures text for the layout
//! and is the only font the SVG→PNG and SVG→PDF conversions can see, so the
//! output does not depend on the fonts installed on the machine.

use std::sync::{Arc, OnceLock};

use resvg::usvg::{self, fontdb};

/// DejaVu Sans Book, the embedded font.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The family name inside [`FONT_BYTES`].
pub(crate) const FAMILY: &str = "DejaVu Sans";

/// What figures write in `font-family`: the embedded font, then the generic
/// family for SVG viewers that lack it.
pub(crate) const SVG_FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

fn face() -> &'static ttf_parser::Face<'static> {
    static FACE: OnceLock<ttf_parser::Face<'static>> = OnceLock::new();
    FACE.get_or_init(|| {
        ttf_parser::Face::parse(FONT_BYTES, 0).expect("embedded DejaVu Sans must parse")
    })
}

/// Advance width of `text` set at `size` (any unit; the result is in the
/// same unit). Kerning is ignored, so this slightly overestimates, which is
/// the safe side for layout.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let face = face();
    let upem = f64::from(face.units_per_em());
    let notdef = face.glyph_hor_advance(ttf_parser::GlyphId(0)).unwrap_or(0);
    let units: u64 = text
        .chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .unwrap_or(notdef) as u64
        })
        .sum();
    units as f64 * size / upem
}

/// The font database holding only the embedded font, with every generic
/// family mapped to it. Built once and shared.
pub(crate) fn fontdb() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_source(fontdb::Source::Binary(Arc::new(FONT_BYTES)));
        db.set_serif_family(FAMILY);
        db.set_sans_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        db.set_cursive_family(FAMILY);
        db.set_fantasy_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// `usvg` options that resolve every text element to the embedded font and
/// never look at system fonts.
pub(crate) fn usvg_options() -> usvg::Options<'static> {
    usvg::Options {
        font_family: FAMILY.to_owned(),
        fontdb: fontdb(),
        ..usvg::Options::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_has_only_the_embedded_font() {
        let db = fontdb();
        assert_eq!(db.len(), 1);
        let families: Vec<_> = db.faces().flat_map(|f| f.families.clone()).collect();
        assert!(
            families.iter().any(|(name, _)| name == FAMILY),
            "{families:?}"
        );
    }

    #[test]
    fn widths_scale_with_size() {
        let w = text_width("failover", 10.0);
        assert!(w > 30.0 && w < 60.0, "{w}");
        assert!((text_width("failover", 20.0) - 2.0 * w).abs() < 1e-9);
        assert_eq!(text_width("", 10.0), 0.0);
    }
}
