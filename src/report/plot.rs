//! Publication figures: panels of theory lines and simulation markers with
//! error bars, rendered to PNG and SVG with plotters.
//!
//! Log axes are drawn by plotting `log10` of the data on a linear axis with
//! `10^k` tick labels; this keeps one code path for every axis combination.
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::atomic::{temp_sibling, write_atomic};

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the bundled DejaVu Sans under plotters' `sans-serif` family so
/// PNG text renders without system fonts.
fn register_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic, FontStyle::Oblique] {
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}

/// Colour-blind-safe palette (Okabe-Ito), indexed modulo its length.
pub fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(0, 0, 0),
        RGBColor(240, 228, 66),
    ];
    P[i % P.len()]
}

/// Marker shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Cross,
}

/// One data series of a panel.
#[derive(Clone, Debug)]
pub enum Series {
    /// Theory: a line through `(x, y)`.
    Line { label: String, points: Vec<(f64, f64)>, color: usize, dashed: bool },
    /// Simulation: markers at `(x, y)` with vertical error bars `[lo, hi]`
    /// (use `lo = hi = y` for none).
    Markers { label: String, points: Vec<(f64, f64, f64, f64)>, color: usize, shape: Shape },
}

/// One set of axes.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    /// Fixed y range; otherwise taken from the data with a margin.
    pub y_range: Option<(f64, f64)>,
    /// Corner of the legend box.
    pub legend: Legend,
}

/// Legend placement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    #[default]
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

impl Panel {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Panel { title: title.into(), x_label: x_label.into(), y_label: y_label.into(), ..Default::default() }
    }
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }
    pub fn legend(mut self, at: Legend) -> Self {
        self.legend = at;
        self
    }
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }
    pub fn line(mut self, label: &str, points: Vec<(f64, f64)>, color: usize) -> Self {
        self.series.push(Series::Line { label: label.into(), points, color, dashed: false });
        self
    }
    pub fn dashed(mut self, label: &str, points: Vec<(f64, f64)>, color: usize) -> Self {
        self.series.push(Series::Line { label: label.into(), points, color, dashed: true });
        self
    }
    pub fn markers(mut self, label: &str, points: Vec<(f64, f64, f64, f64)>, color: usize, shape: Shape) -> Self {
        self.series.push(Series::Markers { label: label.into(), points, color, shape });
        self
    }
}

/// A figure: panels laid out in one row (or `columns` per row).
#[derive(Clone, Debug)]
pub struct Figure {
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub panel_size: (u32, u32),
}

impl Figure {
    pub fn new(panels: Vec<Panel>) -> Self {
        let columns = panels.len().clamp(1, 3);
        Figure { panels, columns, panel_size: (640, 480) }
    }

    /// Writes `<stem>.png` and `<stem>.svg` atomically.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<Vec<std::path::PathBuf>> {
        register_font();
        let rows = self.panels.len().div_ceil(self.columns) as u32;
        let size = (self.panel_size.0 * self.columns as u32, self.panel_size.1 * rows);
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        // The bitmap backend encodes by file extension, so render to a
        // temporary `.png` sibling and rename it into place.
        // The sibling's name carries our process id, so a later run removes
        // it if this one is killed before the rename (`atomic::sweep_stale`).
        let tmp = temp_sibling(&png, ".png");
        let drawn = (|| {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            self.draw(&root).map_err(|e| plot_err(&png, e))?;
            root.present().map_err(|e| plot_err(&png, e))?;
            Ok::<(), Error>(())
        })();
        if let Err(e) = drawn.and_then(|()| std::fs::rename(&tmp, &png).map_err(|e| plot_err(&png, e))) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let mut svg_text = String::new();
        {
            let root = SVGBackend::with_string(&mut svg_text, size).into_drawing_area();
            self.draw(&root).map_err(|e| plot_err(&svg, e))?;
            root.present().map_err(|e| plot_err(&svg, e))?;
        }
        write_atomic(&svg, svg_text.as_bytes())?;
        Ok(vec![png, svg])
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let rows = self.panels.len().div_ceil(self.columns);
        let areas = root.split_evenly((rows, self.columns));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            draw_panel(panel, area).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write { path: path.into(), reason: format!("plotting failed: {e}") }
}

fn tx(v: f64, log: bool) -> Option<f64> {
    let r = if log { (v > 0.0).then(|| v.log10()) } else { Some(v) };
    r.filter(|x| x.is_finite())
}

fn data_range(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    let mut push = |x: f64, ys: &[f64]| {
        if let Some(x) = tx(x, panel.log_x) {
            x0 = x0.min(x);
            x1 = x1.max(x);
            for &y in ys {
                if let Some(y) = tx(y, panel.log_y) {
                    y0 = y0.min(y);
                    y1 = y1.max(y);
                }
            }
        }
    };
    for s in &panel.series {
        match s {
            Series::Line { points, .. } => points.iter().for_each(|p| push(p.0, &[p.1])),
            Series::Markers { points, .. } => points.iter().for_each(|p| push(p.0, &[p.1, p.2, p.3])),
        }
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    if let Some((a, b)) = panel.y_range {
        (y0, y1) = (tx(a, panel.log_y).unwrap_or(y0), tx(b, panel.log_y).unwrap_or(y1));
    }
    let pad = |a: f64, b: f64| {
        let w = if b > a { b - a } else { a.abs().max(1.0) };
        (a - 0.04 * w, b + 0.04 * w)
    };
    let xr = pad(x0, x1);
    let yr = if panel.y_range.is_some() { (y0, y1) } else { pad(y0, y1) };
    (xr, yr)
}

fn tick_label(v: f64, log: bool) -> String {
    if log {
        let p = 10f64.powf(v);
        let k = p.log10().floor() as i32;
        let m = (p / 10f64.powi(k)).round();
        return if (-2..=3).contains(&k) {
            let s = format!("{:.*}", (-k).max(0) as usize, m * 10f64.powi(k));
            s
        } else if m == 1.0 {
            format!("1e{k}")
        } else {
            format!("{m}e{k}")
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A linear axis over plotted coordinates whose ticks are ours (see
/// [`ticks`]), so log axes get ticks at round multiples of decades.
#[derive(Clone, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Axis {
    fn new(lo: f64, hi: f64, log: bool) -> Self {
        Axis { lo, hi, keys: ticks(lo, hi, log) }
    }
}

impl Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            return Vec::new();
        }
        self.keys.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Tick positions (in plotted coordinates) for an axis spanning `[a, b]`:
/// 1-2-5 steps on linear axes; on log axes (coordinates are `log10`) whole
/// decades, or 1-2-5 / 1..9 multiples of them when the span is short.
pub fn ticks(a: f64, b: f64, log: bool) -> Vec<f64> {
    if !(b > a) {
        return vec![a];
    }
    if log {
        let span = b - a;
        let mantissas: &[f64] = if span >= 3.0 {
            &[1.0]
        } else if span >= 1.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
        };
        let mut out = Vec::new();
        let stride = if span > 8.0 { (span / 8.0).ceil() as i32 } else { 1 };
        let mut k = a.floor() as i32;
        while (k as f64) <= b {
            if mantissas.len() > 1 || k.rem_euclid(stride) == 0 {
                for m in mantissas {
                    let v = (m * 10f64.powi(k)).log10();
                    if v >= a - 1e-12 && v <= b + 1e-12 {
                        out.push(v);
                    }
                }
            }
            k += 1;
        }
        if out.len() >= 2 {
            return out;
        }
    }
    let raw = (b - a) / 6.0;
    if !(raw.is_finite() && raw > 0.0) {
        // The span overflows (e.g. [-1e308, 1e308]): label the ends.
        return vec![a, b];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    // Ticks k * step for whole k in [a / step, b / step], counted with an
    // integer: `v += step` never advanced when step was below the ulp of the
    // values (a trajectory flat at -1 up to one ulp hung here; issue 15). A
    // range that narrow against its magnitude gets its two ends.
    let (k0, k1) = ((a / step).ceil(), (b / step + 1e-9).floor());
    if !(k0.is_finite() && k1.is_finite() && k0.abs().max(k1.abs()) < 1e12 && k1 - k0 <= 1000.0) {
        return vec![a, b];
    }
    (0..=((k1 - k0).max(-1.0) as i64).max(-1))
        .map(|i| {
            let v = (k0 + i as f64) * step;
            if v.abs() < 1e-12 * step { 0.0 } else { v }
        })
        .collect()
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let ((x0, x1), (y0, y1)) = data_range(panel);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(Axis::new(x0, x1, panel.log_x), Axis::new(y0, y1, panel.log_y))?;
    let lx = panel.log_x;
    let ly = panel.log_y;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&|v| tick_label(*v, lx))
        .y_label_formatter(&|v| tick_label(*v, ly))
        .axis_desc_style(("sans-serif", 17))
        .label_style(("sans-serif", 14))
        .draw()?;
    let mut any_label = false;
    for s in &panel.series {
        match s {
            Series::Line { label, points, color: c, dashed } => {
                let col = color(*c);
                let pts: Vec<(f64, f64)> =
                    points.iter().filter_map(|p| Some((tx(p.0, lx)?, tx(p.1, ly)?))).collect();
                let style = col.stroke_width(2);
                let anno = if *dashed {
                    chart.draw_series(DashedLineSeries::new(pts, 8, 5, style))?
                } else {
                    chart.draw_series(LineSeries::new(pts, style))?
                };
                if !label.is_empty() {
                    any_label = true;
                    anno.label(label.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
                }
            }
            Series::Markers { label, points, color: c, shape } => {
                let col = color(*c);
                let pts: Vec<(f64, f64, f64, f64)> = points
                    .iter()
                    .filter_map(|p| Some((tx(p.0, lx)?, tx(p.1, ly)?, tx(p.2, ly).unwrap_or(y0), tx(p.3, ly)?)))
                    .collect();
                chart.draw_series(
                    pts.iter().filter(|p| p.3 > p.2).map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, col.stroke_width(1), 6)),
                )?;
                macro_rules! draw_markers {
                    ($make:expr) => {{
                        let anno = chart.draw_series(pts.iter().map(|p| $make((p.0, p.1))))?;
                        if !label.is_empty() {
                            any_label = true;
                            anno.label(label.as_str()).legend(move |(x, y)| $make((x + 10, y)));
                        }
                    }};
                }
                match shape {
                    Shape::Circle => draw_markers!(|at| Circle::new(at, 4, col.filled())),
                    Shape::Triangle => draw_markers!(|at| TriangleMarker::new(at, 5, col.filled())),
                    Shape::Cross => draw_markers!(|at| Cross::new(at, 4, col.stroke_width(2))),
                    Shape::Square => draw_markers!(|at| EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], col.filled())),
                }
            }
        }
    }
    if any_label {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 13))
            .position(match panel.legend {
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::LowerRight => SeriesLabelPosition::LowerRight,
                Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ticks;

    #[test]
    fn ticks_end_on_ranges_narrower_than_an_ulp_step() {
        // A trajectory flat at -1 up to one ulp: this looped forever.
        let t = ticks(-1.0, -0.9999999999999999, false);
        assert_eq!(t, vec![-1.0, -0.9999999999999999]);
        assert_eq!(ticks(0.0, 1.0, false), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(ticks(-1e308, 1e308, false), vec![-1e308, 1e308]);
        assert!(ticks(1.0, 1.0 + 1e-9, false).len() >= 2);
    }
}
