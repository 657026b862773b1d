//! `nesf-train plot DIR`: the loss curves of a run (DIR/log.jsonl) as DIR/loss.png.
//!
//! Six panels, log-scaled: the weighted total, the four loss terms (train and validation) and
//! the learning rate. Text needs a TrueType font, read at run time (no system font library):
//! `NESF_PLOT_FONT=/path/font.ttf`, else a few usual locations (DejaVu Sans, Liberation Sans,
//! Arial), else the first `.ttf` under /usr/share/fonts. Without any font the curves are drawn
//! without text and a warning says so.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::train::{read_log, LogLine};

const FONT_NAME: &str = "sans-serif";

fn find_font() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NESF_PLOT_FONT") {
        return Some(PathBuf::from(p));
    }
    let known = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "/Library/Fonts/Arial.ttf",
    ];
    if let Some(p) = known.iter().map(PathBuf::from).find(|p| p.is_file()) {
        return Some(p);
    }
    fn walk(dir: &Path, depth: usize) -> Option<PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in &entries {
            if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ttf")) {
                return Some(p.clone());
            }
        }
        if depth == 0 {
            return None;
        }
        entries
            .iter()
            .filter(|p| p.is_dir())
            .find_map(|p| walk(p, depth - 1))
    }
    walk(Path::new("/usr/share/fonts"), 3)
}

/// Registers a font once; true when text can be drawn.
fn font_ready() -> bool {
    static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READY.get_or_init(|| {
        let Some(path) = find_font() else {
            return false;
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return false;
        };
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FONT_NAME, FontStyle::Normal, bytes).is_ok()
    })
}

type Series = (&'static str, fn(&LogLine) -> Option<f64>);

/// Draws the curves of `log` into `out` (PNG, 1500 x 900). Returns false when no font was
/// found (curves drawn without text).
pub fn plot(log: &[LogLine], out: &Path) -> Result<bool> {
    if log.is_empty() {
        bail!("the log holds no epoch yet");
    }
    let text = font_ready();
    let root = BitMapBackend::new(out, (1500, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 3));
    let pairs: [(&str, [Series; 2]); 5] = [
        (
            "total loss (weighted)",
            [
                ("train", |l| Some(l.train_loss)),
                ("val", |l| Some(l.val_loss)),
            ],
        ),
        (
            "position MSE (A^2)",
            [
                ("train", |l| Some(l.train_position)),
                ("val", |l| Some(l.val_position)),
            ],
        ),
        (
            "species cross-entropy",
            [
                ("train", |l| Some(l.train_species)),
                ("val", |l| Some(l.val_species)),
            ],
        ),
        (
            "lattice length MSE (A^2)",
            [
                ("train", |l| Some(l.train_lengths)),
                ("val", |l| Some(l.val_lengths)),
            ],
        ),
        (
            "lattice angle MSE (rad^2)",
            [
                ("train", |l| Some(l.train_angles)),
                ("val", |l| Some(l.val_angles)),
            ],
        ),
    ];
    for (panel, (title, series)) in panels.iter().zip(pairs.iter()) {
        draw_panel(panel, title, series, log, text)?;
    }
    let lr: [Series; 1] = [("lr", |l| Some(l.lr))];
    draw_panel(&panels[5], "learning rate", &lr, log, text)?;
    root.present()
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(text)
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    series: &[Series],
    log: &[LogLine],
    text: bool,
) -> Result<()> {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, f)| log.iter().filter_map(f))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (1e-3, 1.0);
    }
    if hi / lo < 1.5 {
        lo /= 1.25;
        hi *= 1.25;
    }
    let last = log.last().map_or(1, |l| l.epoch).max(2);
    let first = log.first().map_or(1, |l| l.epoch);
    let mut builder = ChartBuilder::on(area);
    builder.margin(12);
    if text {
        builder
            .caption(title, (FONT_NAME, 20))
            .x_label_area_size(32)
            .y_label_area_size(64);
    } else {
        builder.x_label_area_size(4).y_label_area_size(4);
    }
    // log10 of the values on a linear axis: evenly spaced, readable tick labels.
    let (ylo, yhi) = (lo.log10(), hi.log10());
    let pad = 0.03 * (yhi - ylo);
    let mut chart =
        builder.build_cartesian_2d(first as f64..last as f64, (ylo - pad)..(yhi + pad))?;
    {
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(235, 235, 235));
        if text {
            mesh.x_desc("epoch")
                .label_style((FONT_NAME, 13))
                .x_labels((last - first + 1).min(10))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_labels(8)
                .y_label_formatter(&|y| significant(10f64.powf(*y)));
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw()?;
    }
    let colors = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];
    for (k, (name, f)) in series.iter().enumerate() {
        let color = colors[k % colors.len()];
        let points: Vec<(f64, f64)> = log
            .iter()
            .filter_map(|l| {
                f(l).filter(|v| v.is_finite() && *v > 0.0)
                    .map(|v| (l.epoch as f64, v.log10()))
            })
            .collect();
        let s = chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
        if text {
            s.label(*name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
    }
    if text && series.len() > 1 {
        chart
            .configure_series_labels()
            .label_font((FONT_NAME, 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

/// `v` with three significant digits.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor() as i32;
    if (-2..4).contains(&e) {
        format!("{:.*}", (2 - e).max(0) as usize, v)
    } else {
        format!("{v:.2e}")
    }
}

/// `plot DIR`: reads DIR/log.jsonl, writes DIR/loss.png, returns its path.
pub fn plot_run(dir: &Path) -> Result<PathBuf> {
    let log = read_log(&dir.join(crate::train::LOG))?;
    let out = dir.join("loss.png");
    if !plot(&log, &out)? {
        eprintln!(
            "warning: no TrueType font found (set NESF_PLOT_FONT=/path/to/font.ttf); \
             {} has curves but no text",
            out.display()
        );
    }
    Ok(out)
}
