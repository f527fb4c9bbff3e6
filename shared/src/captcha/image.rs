//! The captcha image: a PNG raster drawn from a hand-made stroke font.
//!
//! The answer never appears in the response as structure: glyphs are rasterised through
//! a random wave distortion, with pixel-level colour jitter, and crossed by noise curves
//! in the same inks, so the bytes are a compressed bitmap with nothing per glyph in them
//! (the SVG this replaces had one polyline per glyph stroke, which a parser could read).

/// Omits 0/O and 1/I, which distortion makes indistinguishable even for humans.
pub const CAPTCHA_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const WIDTH: f64 = 160.0;
const HEIGHT: f64 = 60.0;
/// Six glyphs at this pitch fill 144 px, leaving a margin for rotation overhang.
const SLOT: f64 = 24.0;
/// Pixels per font-grid unit before random scaling (grid is 4 wide, 6 high).
const UNIT: f64 = 5.4;

type Rgb = [u8; 3];

const INK: &[Rgb] = &[
    [0x1b, 0x2a, 0x6e],
    [0x6b, 0x1a, 0x1a],
    [0x0f, 0x5a, 0x3c],
    [0x4a, 0x1d, 0x6b],
    [0x1e, 0x1e, 0x1e],
    [0x0b, 0x4f, 0x7a],
    [0x7a, 0x3b, 0x0b],
];
const PAPER: &[Rgb] = &[
    [0xf7, 0xf3, 0xea],
    [0xee, 0xf4, 0xf7],
    [0xf4, 0xee, 0xf7],
    [0xf0, 0xf7, 0xee],
    [0xfb, 0xf6, 0xe0],
];

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
    fn pick(&mut self, items: &[Rgb]) -> Rgb {
        let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
        items.get(self.below(len) as usize).copied().unwrap_or([0, 0, 0])
    }
    /// A colour near `c`: ink varies pixel by pixel, so no glyph has one colour.
    fn jitter(&mut self, c: Rgb, by: u32) -> Rgb {
        let mut out = c;
        for v in out.iter_mut() {
            let d = i32::try_from(self.below(2 * by + 1)).unwrap_or(0) - i32::try_from(by).unwrap_or(0);
            *v = u8::try_from((i32::from(*v) + d).clamp(0, 255)).unwrap_or(*v);
        }
        out
    }
}

/// The canvas: RGB pixels, row by row.
struct Canvas {
    px: Vec<Rgb>,
}

impl Canvas {
    const W: usize = WIDTH as usize;
    const H: usize = HEIGHT as usize;

    fn set(&mut self, x: f64, y: f64, c: Rgb) {
        if x < 0.0 || y < 0.0 {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        if x < Self::W && y < Self::H {
            self.px[y * Self::W + x] = c;
        }
    }

    /// A round pen of radius `r` at (x, y).
    fn dab(&mut self, x: f64, y: f64, r: f64, c: Rgb) {
        let reach = r.ceil() as i32;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (fx, fy) = (f64::from(dx), f64::from(dy));
                if fx * fx + fy * fy <= r * r {
                    self.set(x + fx, y + fy, c);
                }
            }
        }
    }
}

/// The random wave every point of the image goes through.
struct Wave {
    ax: f64,
    ay: f64,
    fx: f64,
    fy: f64,
    px: f64,
    py: f64,
}

impl Wave {
    fn new(rng: &mut Rng<'_>) -> Self {
        Wave {
            ax: rng.range(1.5, 3.0),
            ay: rng.range(2.0, 3.5),
            fx: rng.range(0.08, 0.16),
            fy: rng.range(0.05, 0.11),
            px: rng.range(0.0, std::f64::consts::TAU),
            py: rng.range(0.0, std::f64::consts::TAU),
        }
    }
    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x + self.ax * (y * self.fx + self.px).sin(),
            y + self.ay * (x * self.fy + self.py).sin(),
        )
    }
}

/// Draws the segment a→b through the wave, a dab every half pixel.
fn line(canvas: &mut Canvas, rng: &mut Rng<'_>, wave: &Wave, a: (f64, f64), b: (f64, f64), r: f64, ink: Rgb) {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let steps = (len * 2.0).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let t = f64::from(i) / f64::from(steps);
        let (x, y) = wave.apply(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let c = rng.jitter(ink, 28);
        canvas.dab(x, y, r, c);
    }
}

/// Renders `text` (characters from `CAPTCHA_ALPHABET`) as a 160x60 PNG. `rand(n)` returns
/// a uniformly random integer in 0..n (n >= 1); the caller passes a CSPRNG-backed closure.
pub fn render_png(text: &str, rand: &mut dyn FnMut(u32) -> u32) -> Result<Vec<u8>, String> {
    let mut rng = Rng(rand);
    let glyphs: Vec<&[Stroke]> = text.bytes().filter_map(glyph).collect();
    let paper = rng.pick(PAPER);
    let mut canvas = Canvas {
        px: vec![paper; Canvas::W * Canvas::H],
    };
    for i in 0..canvas.px.len() {
        canvas.px[i] = rng.jitter(paper, 10);
    }
    let wave = Wave::new(&mut rng);

    // Longer-than-designed text shrinks instead of overflowing the fixed canvas.
    let n = glyphs.len().max(1) as f64;
    let pitch = SLOT.min((WIDTH - 16.0) / n);
    let shrink = pitch / SLOT;
    let start = (WIDTH - pitch * glyphs.len() as f64) / 2.0 + pitch / 2.0;
    let mut ink = rng.below(INK.len() as u32) as usize;
    for (i, strokes) in glyphs.iter().enumerate() {
        let cx = start + pitch * i as f64 + rng.range(-2.0, 2.0);
        let cy = HEIGHT / 2.0 + rng.range(-5.0, 5.0);
        let (sin, cos) = rng.range(-18.0, 18.0).to_radians().sin_cos();
        let sx = UNIT * shrink * rng.range(0.8, 0.98);
        let sy = UNIT * shrink * rng.range(0.92, 1.05);
        ink = (ink + 1 + rng.below(INK.len() as u32 - 1) as usize) % INK.len();
        let pen = rng.range(1.1, 1.6);
        let place = |(gx, gy): (f64, f64)| {
            let (x, y) = ((gx - 2.0) * sx, (gy - 3.0) * sy);
            (cx + x * cos - y * sin, cy + x * sin + y * cos)
        };
        for stroke in *strokes {
            for w in stroke.windows(2) {
                line(&mut canvas, &mut rng, &wave, place(w[0]), place(w[1]), pen, INK[ink]);
            }
        }
    }

    // Curves in the same inks span the width, crossing the glyphs, so neither colour nor
    // connectivity separates text from noise.
    for _ in 0..3 + rng.below(2) {
        let (x0, y0) = (rng.range(0.0, 15.0), rng.range(8.0, 52.0));
        let (x1, y1) = (rng.range(145.0, 160.0), rng.range(8.0, 52.0));
        let (qx, qy) = (rng.range(30.0, 130.0), rng.range(-10.0, 70.0));
        let (pen, color) = (rng.range(0.5, 0.8), rng.pick(INK));
        let mut prev = (x0, y0);
        for k in 1..=40 {
            let t = f64::from(k) / 40.0;
            let u = 1.0 - t;
            let p = (
                u * u * x0 + 2.0 * u * t * qx + t * t * x1,
                u * u * y0 + 2.0 * u * t * qy + t * t * y1,
            );
            line(&mut canvas, &mut rng, &wave, prev, p, pen, color);
            prev = p;
        }
    }
    // Speckles, dark and light.
    for _ in 0..260 {
        let (x, y) = (rng.range(0.0, WIDTH - 1.0), rng.range(0.0, HEIGHT - 1.0));
        let c = if rng.below(2) == 0 { rng.pick(INK) } else { paper };
        canvas.set(x, y, rng.jitter(c, 30));
    }

    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, WIDTH as u32, HEIGHT as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        let bytes: Vec<u8> = canvas.px.iter().flatten().copied().collect();
        writer.write_image_data(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(png)
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

    /// Decodes a PNG into its size and RGB pixels.
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// How many pixels are far darker than the paper (ink).
    fn inked(pixels: &[u8], x_range: std::ops::Range<usize>) -> usize {
        pixels
            .chunks(3)
            .enumerate()
            .filter(|(i, p)| x_range.contains(&(i % 160)) && p.iter().map(|&v| u32::from(v)).sum::<u32>() < 400)
            .count()
    }

    #[test]
    fn a_captcha_is_a_160_by_60_png_with_ink_in_every_glyph_slot() {
        for k in 0..50u64 {
            let png_bytes = render_png("K7P2X", &mut lcg(k)).unwrap();
            assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert!(!png_bytes.windows(5).any(|w| w == b"K7P2X"), "answer leaked");
            let (w, h, pixels) = decode(&png_bytes);
            assert_eq!((w, h), (160, 60));
            // Five glyphs centred at pitch 24 from x = 20: each slot holds ink.
            for slot in 0..5 {
                let x0 = 20 + 24 * slot;
                assert!(inked(&pixels, x0..x0 + 24) > 40, "slot {slot} of seed {k} is empty");
            }
        }
    }

    #[test]
    fn six_glyphs_stay_on_canvas() {
        let mut extremes: Vec<Box<dyn FnMut(u32) -> u32>> =
            vec![Box::new(|_| 0), Box::new(|n| n - 1), Box::new(|n| n / 2)];
        extremes.extend((0..50).map(|k| Box::new(lcg(k)) as Box<dyn FnMut(u32) -> u32>));
        for r in extremes.iter_mut() {
            for text in ["WMWMWM", "Q8B5G2", "AKXY74"] {
                let (_, _, pixels) = decode(&render_png(text, r.as_mut()).unwrap());
                // Nothing but speckles and noise curves at the outer two columns.
                assert!(inked(&pixels, 0..2) < 40 && inked(&pixels, 158..160) < 40, "{text}");
            }
        }
    }

    #[test]
    fn randomness_changes_output() {
        assert_ne!(render_png("K7P2X", &mut lcg(1)), render_png("K7P2X", &mut lcg(2)));
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
        // No glyph at all: paper, speckles and curves only.
        assert!(render_png("a1O0 é<>&\"", &mut lcg(3)).is_ok());
        // Out-of-range values must be clamped, not index past the palettes.
        let png_bytes = render_png("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", &mut |_| u32::MAX).unwrap();
        assert_eq!(decode(&png_bytes).0, 160);
        assert!(render_png("", &mut |_| 0).is_ok());
    }
}
