//! SVG captcha rendering with a hand-made stroke font.
//!
//! Glyphs are emitted as distorted polylines rather than `<text>`, so the answer never
//! appears in the markup and a bot has to rasterise and recognise the image like a human.

/// Omits 0/O and 1/I, which distortion makes indistinguishable even for humans.
pub const CAPTCHA_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const WIDTH: f64 = 160.0;
const HEIGHT: f64 = 60.0;
/// Six glyphs at this pitch fill 144 px, leaving a margin for rotation overhang.
const SLOT: f64 = 24.0;
/// Pixels per font-grid unit before random scaling (grid is 4 wide, 6 high).
const UNIT: f64 = 5.4;

// Hex colours deliberately mix in letters/0/1 so no run of alphabet digits appears in
// the markup that could coincide with a numeric answer.
const INK: &[&str] = &[
    "#1b2a6e", "#6b1a1a", "#0f5a3c", "#4a1d6b", "#1e1e1e", "#0b4f7a", "#7a3b0b",
];
const NOISE: &[&str] = &["#a0b0c8", "#c0a0a8", "#a8c0a0", "#b8a8c8", "#c8b8a0", "#90b8c0"];
const PAPER: &[&str] = &["#f7f3ea", "#eef4f7", "#f4eef7", "#f0f7ee", "#fbf6e0"];

type Stroke = &'static [(f64, f64)];

/// Stroke font on a 0..4 x 0..6 grid (y down). Look-alike pairs are kept apart on
/// purpose: 2 has a round shoulder where Z is square, 5 has a flat top and straight
/// stem unlike S, 8 has no stem unlike B, U is round-bottomed unlike V.
fn glyph(c: u8) -> Option<&'static [Stroke]> {
    let g: &'static [Stroke] = match c {
        b'A' => &[&[(0., 6.), (2., 0.), (4., 6.)], &[(0.8, 3.8), (3.2, 3.8)]],
        b'B' => &[&[
            (0., 3.),
            (3., 3.),
            (4., 4.),
            (4., 5.),
            (3., 6.),
            (0., 6.),
            (0., 0.),
            (2.8, 0.),
            (3.6, 0.8),
            (3.6, 2.2),
            (2.8, 3.),
        ]],
        b'C' => &[&[
            (4., 1.),
            (3., 0.),
            (1., 0.),
            (0., 1.),
            (0., 5.),
            (1., 6.),
            (3., 6.),
            (4., 5.),
        ]],
        b'D' => &[&[(0., 0.), (0., 6.), (2.4, 6.), (4., 4.4), (4., 1.6), (2.4, 0.), (0., 0.)]],
        b'E' => &[&[(4., 0.), (0., 0.), (0., 6.), (4., 6.)], &[(0., 3.), (3., 3.)]],
        b'F' => &[&[(4., 0.), (0., 0.), (0., 6.)], &[(0., 3.), (3., 3.)]],
        b'G' => &[&[
            (4., 1.),
            (3., 0.),
            (1., 0.),
            (0., 1.),
            (0., 5.),
            (1., 6.),
            (3., 6.),
            (4., 5.),
            (4., 3.4),
            (2.2, 3.4),
        ]],
        b'H' => &[&[(0., 0.), (0., 6.)], &[(4., 0.), (4., 6.)], &[(0., 3.), (4., 3.)]],
        b'J' => &[&[(1.5, 0.), (4., 0.), (4., 5.), (3., 6.), (1., 6.), (0., 5.)]],
        b'K' => &[&[(0., 0.), (0., 6.)], &[(4., 0.), (0., 3.6)], &[(1.4, 2.4), (4., 6.)]],
        b'L' => &[&[(0., 0.), (0., 6.), (4., 6.)]],
        b'M' => &[&[(0., 6.), (0., 0.), (2., 3.6), (4., 0.), (4., 6.)]],
        b'N' => &[&[(0., 6.), (0., 0.), (4., 6.), (4., 0.)]],
        b'P' => &[&[(0., 6.), (0., 0.), (3., 0.), (4., 1.), (4., 2.), (3., 3.), (0., 3.)]],
        b'Q' => &[
            &[
                (1., 0.),
                (3., 0.),
                (4., 1.),
                (4., 5.),
                (3., 6.),
                (1., 6.),
                (0., 5.),
                (0., 1.),
                (1., 0.),
            ],
            &[(2.2, 4.), (4.3, 6.4)],
        ],
        b'R' => &[
            &[(0., 6.), (0., 0.), (3., 0.), (4., 1.), (4., 2.), (3., 3.), (0., 3.)],
            &[(1.8, 3.), (4., 6.)],
        ],
        b'S' => &[&[
            (4., 1.),
            (3., 0.),
            (1., 0.),
            (0., 1.),
            (0., 2.),
            (1., 3.),
            (3., 3.),
            (4., 4.),
            (4., 5.),
            (3., 6.),
            (1., 6.),
            (0., 5.),
        ]],
        b'T' => &[&[(0., 0.), (4., 0.)], &[(2., 0.), (2., 6.)]],
        b'U' => &[&[(0., 0.), (0., 5.), (1., 6.), (3., 6.), (4., 5.), (4., 0.)]],
        b'V' => &[&[(0., 0.), (2., 6.), (4., 0.)]],
        b'W' => &[&[(0., 0.), (1., 6.), (2., 2.4), (3., 6.), (4., 0.)]],
        b'X' => &[&[(0., 0.), (4., 6.)], &[(4., 0.), (0., 6.)]],
        b'Y' => &[&[(0., 0.), (2., 3.), (4., 0.)], &[(2., 3.), (2., 6.)]],
        b'Z' => &[&[(0., 0.), (4., 0.), (0., 6.), (4., 6.)]],
        b'2' => &[&[(0., 1.), (1., 0.), (3., 0.), (4., 1.), (4., 2.2), (0., 6.), (4., 6.)]],
        b'3' => &[
            &[(0., 1.), (1., 0.), (3., 0.), (4., 1.), (4., 2.), (3., 3.), (1.5, 3.)],
            &[(3., 3.), (4., 4.), (4., 5.), (3., 6.), (1., 6.), (0., 5.)],
        ],
        b'4' => &[&[(3., 6.), (3., 0.), (0., 4.), (4., 4.)]],
        b'5' => &[&[
            (4., 0.),
            (0.4, 0.),
            (0., 2.8),
            (2.8, 2.6),
            (4., 3.6),
            (4., 5.),
            (3., 6.),
            (1., 6.),
            (0., 5.),
        ]],
        b'6' => &[&[
            (3.5, 0.),
            (1.6, 0.4),
            (0., 2.6),
            (0., 5.),
            (1., 6.),
            (3., 6.),
            (4., 5.),
            (4., 4.),
            (3., 3.),
            (1., 3.),
            (0., 4.),
        ]],
        b'7' => &[&[(0., 0.), (4., 0.), (1.5, 6.)]],
        b'8' => &[&[
            (1., 3.),
            (0.4, 2.2),
            (0.4, 0.8),
            (1.2, 0.),
            (2.8, 0.),
            (3.6, 0.8),
            (3.6, 2.2),
            (3., 3.),
            (1., 3.),
            (0., 4.),
            (0., 5.),
            (1., 6.),
            (3., 6.),
            (4., 5.),
            (4., 4.),
            (3., 3.),
        ]],
        b'9' => &[&[
            (4., 2.),
            (3., 3.),
            (1., 3.),
            (0., 2.),
            (0., 1.),
            (1., 0.),
            (3., 0.),
            (4., 1.),
            (4., 3.4),
            (2.4, 5.6),
            (0.5, 6.),
        ]],
        _ => return None,
    };
    Some(g)
}

/// Wraps the caller's closure so a misbehaving source (returning >= n) cannot index out
/// of bounds, and derives the float ranges the distortions need.
struct Rng<'a>(&'a mut dyn FnMut(u32) -> u32);

impl Rng<'_> {
    fn below(&mut self, n: u32) -> u32 {
        let n = n.max(1);
        (self.0)(n) % n
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * f64::from(self.below(1001)) / 1000.0
    }
    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
        items.get(self.below(len) as usize).copied().unwrap_or("#000000")
    }
}

/// Renders `text` (characters from `CAPTCHA_ALPHABET`) as an SVG captcha, 160x60 px.
/// `rand(n)` returns a uniformly random integer in 0..n (n >= 1); the caller passes a CSPRNG-backed closure.
pub fn render_svg(text: &str, rand: &mut dyn FnMut(u32) -> u32) -> String {
    let mut rng = Rng(rand);
    let glyphs: Vec<&[Stroke]> = text.bytes().filter_map(glyph).collect();
    let mut elems: Vec<String> = Vec::new();
    let mut ink = rng.below(INK.len() as u32) as usize;

    // Longer-than-designed text shrinks instead of overflowing the fixed canvas.
    let n = glyphs.len().max(1) as f64;
    let pitch = SLOT.min((WIDTH - 16.0) / n);
    let shrink = pitch / SLOT;
    let start = (WIDTH - pitch * glyphs.len() as f64) / 2.0 + pitch / 2.0;

    for (i, strokes) in glyphs.iter().enumerate() {
        let cx = start + pitch * i as f64 + rng.range(-2.0, 2.0);
        let cy = HEIGHT / 2.0 + rng.range(-6.0, 6.0);
        let (sin, cos) = rng.range(-15.0, 15.0).to_radians().sin_cos();
        // Narrower than tall so rotated neighbours touch at most, rather than merging.
        let sx = UNIT * shrink * rng.range(0.8, 0.98);
        let sy = UNIT * shrink * rng.range(0.92, 1.1);
        // Neighbours never share a colour, otherwise an overlap reads as one shape.
        ink = (ink + 1 + rng.below(INK.len() as u32 - 1) as usize) % INK.len();
        for stroke in *strokes {
            let pts: Vec<String> = stroke
                .iter()
                .map(|&(gx, gy)| {
                    let (x, y) = ((gx - 2.0) * sx, (gy - 3.0) * sy);
                    format!("{:.1},{:.1}", cx + x * cos - y * sin, cy + x * sin + y * cos)
                })
                .collect();
            elems.push(format!(
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>"#,
                pts.join(" "),
                INK[ink]
            ));
        }
    }

    // Curves span the full width so they cross glyphs and hinder naive segmentation.
    for _ in 0..4 + rng.below(3) {
        let (y0, y1) = (rng.range(5.0, 55.0), rng.range(5.0, 55.0));
        let (qx, qy) = (rng.range(30.0, 130.0), rng.range(-20.0, 80.0));
        elems.push(format!(
            r#"<path d="M {:.1} {y0:.1} Q {qx:.1} {qy:.1} {:.1} {y1:.1}" fill="none" stroke="{}" stroke-width="{:.1}" stroke-linecap="round"/>"#,
            rng.range(0.0, 15.0),
            rng.range(145.0, 160.0),
            rng.pick(NOISE),
            rng.range(1.0, 1.6),
        ));
    }

    // Shuffled so document order does not give away the reading order of the glyphs.
    for i in (1..elems.len()).rev() {
        let j = rng.below(u32::try_from(i + 1).unwrap_or(u32::MAX)) as usize;
        elems.swap(i, j.min(i));
    }

    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="60" viewBox="0 0 160 60"><rect width="160" height="60" fill="{}"/>{}</svg>"#,
        rng.pick(PAPER),
        elems.concat()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic LCG stand-in for the CSPRNG so failures are reproducible.
    fn lcg(seed: u64) -> impl FnMut(u32) -> u32 {
        let mut s = seed;
        move |n| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) % u64::from(n.max(1))) as u32
        }
    }

    #[test]
    fn well_formed_and_hides_answer() {
        let mut r = lcg(7);
        for k in 0..300u64 {
            let ans: String = (0..5 + (k % 2))
                .map(|_| CAPTCHA_ALPHABET[r(32) as usize] as char)
                .collect();
            let svg = render_svg(&ans, &mut lcg(k));
            assert!(svg.starts_with(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="60" viewBox="0 0 160 60">"#
            ));
            assert!(svg.ends_with("</svg>"));
            assert!(!svg.contains("<text") && !svg.contains("<title") && !svg.contains("<!--"));
            assert!(!svg.contains(&ans), "answer {ans} leaked");
            assert!(svg.matches("<polyline").count() >= ans.len());
            let noise = svg.matches("<path").count();
            assert!((4..=6).contains(&noise));
        }
    }

    #[test]
    fn six_glyphs_stay_on_canvas() {
        let mut extremes: Vec<Box<dyn FnMut(u32) -> u32>> =
            vec![Box::new(|_| 0), Box::new(|n| n - 1), Box::new(|n| n / 2)];
        extremes.extend((0..200).map(|k| Box::new(lcg(k)) as Box<dyn FnMut(u32) -> u32>));
        for r in extremes.iter_mut() {
            for text in ["WMWMWM", "Q8B5G2", "AKXY74"] {
                let svg = render_svg(text, r.as_mut());
                for poly in svg.split(r#"<polyline points=""#).skip(1) {
                    let pts = poly.split('"').next().unwrap_or_default();
                    for xy in pts.split(' ') {
                        let (x, y) = xy.split_once(',').unwrap_or(("x", "x"));
                        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                        assert!(
                            (1.0..=159.0).contains(&x) && (1.0..=59.0).contains(&y),
                            "{text}: {x},{y}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn randomness_changes_output() {
        assert_ne!(render_svg("K7P2X", &mut lcg(1)), render_svg("K7P2X", &mut lcg(2)));
    }

    #[test]
    fn every_alphabet_char_has_in_grid_glyph() {
        for &c in CAPTCHA_ALPHABET {
            let g = glyph(c).unwrap_or_else(|| panic!("missing glyph {}", c as char));
            assert!(!g.is_empty());
            for s in g {
                assert!(s.len() >= 2);
                assert!(s
                    .iter()
                    .all(|&(x, y)| (-0.5..=4.5).contains(&x) && (-0.5..=6.5).contains(&y)));
            }
        }
        assert_eq!(CAPTCHA_ALPHABET.len(), 32);
    }

    #[test]
    fn tolerates_bad_input_and_bad_rng() {
        let svg = render_svg("a1O0 é<>&\"", &mut lcg(3));
        assert_eq!(svg.matches("<polyline").count(), 0);
        // Out-of-range values must be clamped, not index past the palettes.
        let svg = render_svg("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", &mut |_| u32::MAX);
        assert!(svg.ends_with("</svg>") && !svg.contains("NaN"));
        assert!(render_svg("", &mut |_| 0).ends_with("</svg>"));
    }
}
