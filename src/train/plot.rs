//! A small loss-curve plot written as PNG (no font or plotting library): lines per series on
//! white, a light grid, and the axis ranges printed in a built-in 3×5 digit font (y: loss at
//! the bottom and top lines; x: first and last step). Colors: train loss blue, eval loss red.

/// One line of the plot.
pub struct Series {
    /// What it is (for the reader of the code; the image shows colors, see the module doc).
    pub name: &'static str,
    /// RGB color.
    pub color: [u8; 3],
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

const W: usize = 800;
const H: usize = 480;
const LEFT: usize = 70;
const RIGHT: usize = 20;
const TOP: usize = 20;
const BOTTOM: usize = 40;

struct Canvas {
    px: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < W && (y as usize) < H {
            let i = (y as usize * W + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: [u8; 3], thick: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            for ox in 0..thick {
                for oy in 0..thick {
                    self.set(x + ox, y + oy, c);
                }
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws `text` (digits, '.', '-', 'e', '+') at (x, y), each font pixel 2×2.
    fn text(&mut self, x: i64, y: i64, text: &str) {
        for (k, ch) in text.chars().enumerate() {
            let rows = glyph(ch);
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits & (4 >> col) != 0 {
                        let (px, py) = (x + k as i64 * 8 + col * 2, y + r as i64 * 2);
                        for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            self.set(px + ox, py + oy, [40, 40, 40]);
                        }
                    }
                }
            }
        }
    }
}

/// 3×5 glyphs, one row of 3 bits per entry.
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        '+' => [0, 2, 7, 2, 0],
        'e' => [0, 7, 7, 4, 7],
        _ => [0; 5],
    }
}

fn label(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// The PNG bytes of a plot of `series` (empty series are skipped; with no points at all, an
/// empty frame).
pub fn plot_losses(series: &[Series]) -> Vec<u8> {
    let mut canvas = Canvas {
        px: vec![255; W * H * 3],
    };
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let (pw, ph) = ((W - LEFT - RIGHT) as f64, (H - TOP - BOTTOM) as f64);
    for i in 0..=4 {
        let y = TOP as i64 + (ph * i as f64 / 4.0) as i64;
        canvas.line(
            (LEFT as i64, y),
            ((W - RIGHT) as i64, y),
            [225, 225, 225],
            1,
        );
    }
    let frame = [80, 80, 80];
    let (l, r, t, b) = (
        LEFT as i64,
        (W - RIGHT) as i64,
        TOP as i64,
        (H - BOTTOM) as i64,
    );
    canvas.line((l, t), (l, b), frame, 1);
    canvas.line((l, b), (r, b), frame, 1);
    if x0 <= x1 {
        let (xs, ys) = ((x1 - x0).max(1e-12), (y1 - y0).max(1e-12));
        let map = |(x, y): (f64, f64)| {
            (
                l + ((x - x0) / xs * pw) as i64,
                b - ((y - y0) / ys * ph) as i64,
            )
        };
        for s in series {
            let pts: Vec<(i64, i64)> = s
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|&p| map(p))
                .collect();
            for w in pts.windows(2) {
                canvas.line(w[0], w[1], s.color, 2);
            }
            if pts.len() == 1 {
                canvas.line(pts[0], pts[0], s.color, 5);
            }
        }
        canvas.text(4, t - 4, &label(y1));
        canvas.text(4, b - 6, &label(y0));
        canvas.text(l, b + 10, &label(x0));
        let last = label(x1);
        canvas.text(r - last.len() as i64 * 8, b + 10, &last);
    }
    for (i, s) in series.iter().enumerate() {
        let y = t + 8 + i as i64 * 14;
        canvas.line((r - 40, y), (r - 10, y), s.color, 4);
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, W as u32, H as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("in-memory PNG header");
        writer
            .write_image_data(&canvas.px)
            .expect("in-memory PNG data");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_decodable_png_with_the_lines() {
        let bytes = plot_losses(&[
            Series {
                name: "train",
                color: [31, 119, 180],
                points: vec![(1.0, 3.0), (50.0, 1.0), (100.0, 0.5)],
            },
            Series {
                name: "eval",
                color: [214, 39, 40],
                points: vec![(50.0, 1.2)],
            },
        ]);
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (W as u32, H as u32));
        let blue = buf.chunks(3).filter(|p| p == &[31, 119, 180]).count();
        let red = buf.chunks(3).filter(|p| p == &[214, 39, 40]).count();
        assert!(blue > 500 && red > 20, "blue {blue} red {red}");
    }
}
