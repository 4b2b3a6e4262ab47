//! SVG figures of a [`Report`] (plotters' SVG backend; text is rendered by
//! the viewer, so no fonts are needed to build or run).

use crate::{uses_lambda, Report};
use plotters::prelude::*;
use std::collections::BTreeMap;

/// A figure: file name and SVG text.
pub type Figure = (String, String);

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plotting failed: {e:?}")
}

/// λ > 0 values on a log axis; λ = 0 is drawn at a third of the smallest
/// positive λ (said in the caption).
fn x_of(l: f64, zero_at: f64) -> f64 {
    if l > 0.0 {
        l
    } else {
        zero_at
    }
}

/// Metric vs λ for each family of λ-using methods, with the CI band;
/// methods without λ as horizontal lines.
fn metric_vs_lambda(report: &Report, metric: &str, title: &str) -> Result<String, String> {
    let mut families: BTreeMap<String, Vec<(f64, f64, f64, f64)>> = BTreeMap::new();
    let mut flat: Vec<(String, f64)> = Vec::new();
    for p in &report.points {
        let Some(e) = p.metrics.get(metric) else {
            continue;
        };
        if uses_lambda(&p.method) {
            let mut rest = p.settings.clone();
            rest.remove("esai.lambda");
            rest.remove("esai.method");
            let fam = if rest.is_empty() {
                p.method.clone()
            } else {
                format!(
                    "{} ({})",
                    p.method,
                    rest.iter()
                        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            families
                .entry(fam)
                .or_default()
                .push((p.lambda, e.mean, e.lo, e.hi));
        } else {
            flat.push((p.label.clone(), e.mean));
        }
    }
    let lambdas: Vec<f64> = families
        .values()
        .flatten()
        .map(|t| t.0)
        .filter(|l| *l > 0.0)
        .collect();
    let min_pos = lambdas.iter().copied().fold(f64::INFINITY, f64::min);
    let max = lambdas.iter().copied().fold(0.0, f64::max);
    let (min_pos, max) = if min_pos.is_finite() {
        (min_pos, max)
    } else {
        (0.01, 10.0)
    };
    let zero_at = min_pos / 3.0;
    let ys: Vec<f64> = families
        .values()
        .flatten()
        .flat_map(|t| [t.2, t.3])
        .chain(flat.iter().map(|f| f.1))
        .filter(|y| y.is_finite())
        .collect();
    let (mut y0, mut y1) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    if !(y0.is_finite() && y1.is_finite()) {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{title} vs λ (mean, 95% CI; λ = 0 drawn at {zero_at:.3})"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((zero_at * 0.8..max * 1.25).log_scale(), y0 - pad..y1 + pad)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("λ (log scale)")
            .y_desc(title)
            .draw()
            .map_err(err)?;
        for (i, (fam, pts)) in families.iter_mut().enumerate() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let c = PALETTE[i % PALETTE.len()];
            let mut band: Vec<(f64, f64)> = pts.iter().map(|t| (x_of(t.0, zero_at), t.3)).collect();
            band.extend(pts.iter().rev().map(|t| (x_of(t.0, zero_at), t.2)));
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|t| (x_of(t.0, zero_at), t.1)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(fam.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            chart
                .draw_series(
                    pts.iter()
                        .map(|t| Circle::new((x_of(t.0, zero_at), t.1), 3, c.filled())),
                )
                .map_err(err)?;
        }
        for (j, (name, y)) in flat.iter().enumerate() {
            let c = PALETTE[(families.len() + j) % PALETTE.len()];
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(zero_at * 0.8, *y), (max * 1.25, *y)],
                    6,
                    4,
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(name.clone())
                .legend(move |(x, yy)| {
                    PathElement::new(vec![(x, yy), (x + 18, yy)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Return against prosocial rate for every point, Pareto front joined.
fn pareto(report: &Report) -> Result<String, String> {
    let pts: Vec<(String, f64, f64)> = report
        .points
        .iter()
        .filter_map(|p| {
            Some((
                p.label.clone(),
                p.metrics.get("prosocial_rate")?.mean,
                p.metrics.get("mean_return")?.mean,
            ))
        })
        .collect();
    let mut front: Vec<(f64, f64)> = pts
        .iter()
        .filter(|(_, x, y)| {
            !pts.iter()
                .any(|(_, a, b)| a >= x && b >= y && (a > x || b > y))
        })
        .map(|(_, x, y)| (*x, *y))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ymin, ymax) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.2), b.max(p.2))
        });
    let (ymin, ymax) = if ymin.is_finite() {
        (ymin, ymax)
    } else {
        (0.0, 1.0)
    };
    let pad = ((ymax - ymin) * 0.08).max(1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Return vs prosocial rate (Pareto front joined)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.02f64..1.02, ymin - pad..ymax + pad)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("prosocial rate")
            .y_desc("return")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(front, BLACK.stroke_width(1)))
            .map_err(err)?;
        for (i, (name, x, y)) in pts.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(std::iter::once(Circle::new((*x, *y), 5, c.filled())))
                .map_err(err)?
                .label(name.clone())
                .legend(move |(a, b)| Circle::new((a + 6, b), 4, c.filled()));
        }
        if pts.len() <= 24 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .label_font(("sans-serif", 10))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Mean prosocial-rate training curves, one per point.
fn curves(report: &Report) -> Result<String, String> {
    let max_x = report
        .points
        .iter()
        .flat_map(|p| p.curve.iter().map(|c| c.env_steps))
        .fold(1.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Prosocial rate during training (mean over seeds)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max_x, 0.0f64..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("environment steps")
            .y_desc("prosocial rate")
            .draw()
            .map_err(err)?;
        for (i, p) in report.points.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let line: Vec<(f64, f64)> = p
                .curve
                .iter()
                .filter_map(|q| Some((q.env_steps, q.prosocial_rate?)))
                .collect();
            chart
                .draw_series(LineSeries::new(line, c.stroke_width(2)))
                .map_err(err)?
                .label(p.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if report.points.len() <= 24 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", 10))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Prosocial rate per method (bars with 95% CI) at the λ the ablations use,
/// plus the λ-free baselines.
fn ablations(report: &Report) -> Result<String, String> {
    let ablation_lambda = report
        .points
        .iter()
        .find(|p| p.method.starts_with("esai-no-"))
        .map(|p| p.lambda);
    let bars: Vec<(String, f64, f64, f64)> = report
        .points
        .iter()
        .filter(|p| match ablation_lambda {
            Some(l) => !uses_lambda(&p.method) || p.lambda == l,
            None => true,
        })
        .filter_map(|p| {
            let e = p.metrics.get("prosocial_rate")?;
            Some((p.label.clone(), e.mean, e.lo.max(0.0), e.hi.min(1.0)))
        })
        .collect();
    let n = bars.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                match ablation_lambda {
                    Some(l) => format!("Prosocial rate by method at λ = {l} (mean, 95% CI)"),
                    None => "Prosocial rate by point (mean, 95% CI)".into(),
                },
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(10)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..n as f64, 0.0f64..1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .light_line_style(WHITE)
            .y_desc("prosocial rate")
            .draw()
            .map_err(err)?;
        for (i, (_, m, lo, hi)) in bars.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.15, 0.0), (x + 0.85, *m)],
                    c.mix(0.8).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x + 0.5, *lo), (x + 0.5, *hi)],
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?;
            // The name runs up the bar (rotated), so long labels never collide.
            chart
                .draw_series(std::iter::once(Text::new(
                    bars[i].0.clone(),
                    (x + 0.3, 0.02),
                    ("sans-serif", 12)
                        .into_font()
                        .transform(FontTransform::Rotate270)
                        .color(&BLACK),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Every figure of the report.
pub fn figures(report: &Report) -> Result<Vec<Figure>, String> {
    Ok(vec![
        (
            "pr_vs_lambda.svg".into(),
            metric_vs_lambda(report, "prosocial_rate", "prosocial rate")?,
        ),
        (
            "return_vs_lambda.svg".into(),
            metric_vs_lambda(report, "mean_return", "return")?,
        ),
        (
            "entropy_vs_lambda.svg".into(),
            metric_vs_lambda(report, "entropy", "entropy (nats)")?,
        ),
        ("pareto.svg".into(), pareto(report)?),
        ("curves.svg".into(), curves(report)?),
        ("ablations.svg".into(), ablations(report)?),
    ])
}
