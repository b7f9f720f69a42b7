//! The loss curve as an SVG a person reads: training and evaluation loss against the optimizer
//! step, with axis titles, tick labels, a legend naming both series, and every evaluation
//! marked with a dot (they are few and far apart). Drawn with plotters' SVG backend, which
//! writes text as SVG `<text>` for the viewer's font: no font library is needed to draw it.

use plotters::prelude::*;

/// One line of the plot.
pub struct Series {
    /// The legend's name for it.
    pub name: &'static str,
    /// RGB color.
    pub color: [u8; 3],
    /// Whether each point gets a dot (for sparse series such as evaluations).
    pub markers: bool,
    /// (x, y) points in x order; points whose y is not finite are left out.
    pub points: Vec<(f64, f64)>,
}

const SIZE: (u32, u32) = (800, 480);

/// The x and y ranges covering every finite point, padded so no point sits on the frame; a
/// unit range when there is nothing to show.
fn ranges(series: &[Series]) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in series.iter().flat_map(|s| &s.points) {
        if x.is_finite() && y.is_finite() {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
    }
    if x0 > x1 {
        return (0.0..1.0, 0.0..1.0);
    }
    let pad = |lo: f64, hi: f64, least: f64| {
        let m = ((hi - lo) * 0.05).max(least);
        (lo - m)..(hi + m)
    };
    let x = if x1 > x0 { x0..x1 } else { pad(x0, x1, 1.0) };
    (x, pad(y0, y1, (y1.abs() * 0.005).max(1e-3)))
}

/// A step's tick label: whole steps without a decimal point.
fn step_label(x: &f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The SVG text of a plot of `series` (with no points at all, empty axes).
pub fn plot_losses(series: &[Series]) -> String {
    let mut svg = String::new();
    draw(&mut svg, series).expect("drawing into a string cannot fail");
    svg
}

fn draw(svg: &mut String, series: &[Series]) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (xr, yr) = ranges(series);
    let mut chart = ChartBuilder::on(&root)
        .caption("Training and evaluation loss", ("sans-serif", 20))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xr, yr)?;
    chart
        .configure_mesh()
        .x_desc("optimizer step")
        .x_label_formatter(&step_label)
        .y_desc("loss (cross-entropy per output token)")
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for s in series {
        let color = RGBColor(s.color[0], s.color[1], s.color[2]);
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let dot = if s.markers { 4 } else { 0 };
        let legend = move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (20, 0)], color.stroke_width(2))
                + Circle::new((10, 0), dot, color.filled())
        };
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(s.name)
            .legend(legend);
        if s.markers {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Vec<Series> {
        vec![
            Series {
                name: "train loss",
                color: [31, 119, 180],
                markers: false,
                points: vec![(1.0, 3.0), (50.0, 1.0), (100.0, 0.5), (110.0, f64::NAN)],
            },
            Series {
                name: "eval loss",
                color: [214, 39, 40],
                markers: true,
                points: vec![(50.0, 1.2), (100.0, 0.9)],
            },
        ]
    }

    /// The texts the SVG shows.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn the_plot_names_its_axes_and_both_series_and_marks_each_evaluation() {
        let svg = plot_losses(&example());
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let shown = texts(&svg);
        for text in [
            "optimizer step",
            "loss (cross-entropy per output token)",
            "train loss",
            "eval loss",
        ] {
            assert!(
                shown.iter().any(|t| t == text),
                "{text} missing from {shown:?}"
            );
        }
        let red_dots = svg
            .matches("<circle")
            .zip(svg.split("<circle").skip(1))
            .filter(|(_, rest)| rest.split('>').next().unwrap().contains("#D62728"))
            .count();
        // Two evaluation markers and the legend's sample.
        assert_eq!(red_dots, 3, "{svg}");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn an_empty_or_single_point_run_still_draws_its_axes() {
        for points in [vec![], vec![(5.0, 2.0)]] {
            let svg = plot_losses(&[Series {
                name: "train loss",
                color: [31, 119, 180],
                markers: false,
                points,
            }]);
            assert!(texts(&svg).iter().any(|t| t == "optimizer step"), "{svg}");
            assert!(!svg.contains("NaN"), "{svg}");
        }
    }
}
