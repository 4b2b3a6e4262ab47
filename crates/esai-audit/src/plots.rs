//! SVG figures of an [`Audit`]: the group × group HELP heatmap, HELP rate
//! against similarity with the fitted line, and in/out-group bars with CIs.

use crate::{Analysis, Audit};
use plotters::prelude::*;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plotting failed: {e:?}")
}

/// Group × group HELP rate heatmap (actor rows, target columns).
pub fn heatmap(a: &Analysis, groups: usize) -> Result<String, String> {
    let g = groups.max(1);
    let max = a
        .pairs
        .iter()
        .map(|p| p.help_rate)
        .filter(|v| v.is_finite())
        .fold(1e-9, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("HELP rate, actor group × target group", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..g as f64, 0.0..g as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(g + 1)
            .y_labels(g + 1)
            .x_desc("target group")
            .y_desc("actor group")
            .x_label_formatter(&|x| format!("{:.0}", x.floor()))
            .y_label_formatter(&|y| format!("{:.0}", y.floor()))
            .draw()
            .map_err(err)?;
        for p in &a.pairs {
            let v = if p.help_rate.is_finite() {
                p.help_rate
            } else {
                0.0
            };
            let t = (v / max).clamp(0.0, 1.0);
            let c = RGBColor(
                (255.0 - 224.0 * t) as u8,
                (255.0 - 136.0 * t) as u8,
                (255.0 - 75.0 * t) as u8,
            );
            let (x, y) = (p.target_group as f64, p.actor_group as f64);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    c.filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{v:.3}"),
                    (x + 0.4, y + 0.5),
                    ("sans-serif", 16).into_font().color(&BLACK),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Per-edge HELP rate against similarity, in-group and out-group edges
/// coloured, with the OLS line.
pub fn scatter(a: &Analysis) -> Result<String, String> {
    let ymax = a.edges.iter().map(|e| e.help_rate).fold(0.05, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let s = a.help_similarity_slope;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "HELP rate vs identity similarity β (slope {:.3} [{:.3}, {:.3}])",
                    s.value, s.lo, s.hi
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.02f64..1.02, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("β_ij = max(0, cos(f_i, f_j))")
            .y_desc("HELP per step")
            .draw()
            .map_err(err)?;
        for (in_group, color, name) in [
            (true, RGBColor(31, 119, 180), "in-group edge"),
            (false, RGBColor(214, 39, 40), "out-group edge"),
        ] {
            chart
                .draw_series(
                    a.edges
                        .iter()
                        .filter(|e| e.in_group == in_group)
                        .map(|e| Circle::new((e.similarity, e.help_rate), 3, color.filled())),
                )
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        if s.value.is_finite() {
            let line = [0.0, 1.0].map(|x| (x, a.help_similarity_intercept + s.value * x));
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))
                .map_err(err)?
                .label("OLS fit")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK));
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

/// HELP and STEAL rates, in-group vs out-group, with 95% intervals (and the
/// counterfactual's, when probed).
pub fn bars(audit: &Audit) -> Result<String, String> {
    let mut rows: Vec<(String, crate::Ci)> = vec![
        ("HELP in".into(), audit.observed.help_in),
        ("HELP out".into(), audit.observed.help_out),
        ("STEAL in".into(), audit.observed.steal_in),
        ("STEAL out".into(), audit.observed.steal_out),
    ];
    if let Some(cf) = &audit.counterfactual {
        rows.push(("HELP in, swapped ids".into(), cf.help_in));
        rows.push(("HELP out, swapped ids".into(), cf.help_out));
    }
    let ymax = rows
        .iter()
        .map(|r| r.1.hi)
        .filter(|v| v.is_finite())
        .fold(0.05, f64::max)
        * 1.15;
    let n = rows.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (680, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Rates per edge-step (95% bootstrap CI)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(10)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..n as f64, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .light_line_style(WHITE)
            .y_desc("rate")
            .draw()
            .map_err(err)?;
        for (i, (name, ci)) in rows.iter().enumerate() {
            let x = i as f64;
            let c = if name.starts_with("HELP") {
                RGBColor(31, 119, 180)
            } else {
                RGBColor(214, 39, 40)
            };
            let v = if ci.value.is_finite() { ci.value } else { 0.0 };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.15, 0.0), (x + 0.85, v)],
                    c.mix(0.75).filled(),
                )))
                .map_err(err)?;
            if ci.lo.is_finite() && ci.hi.is_finite() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x + 0.5, ci.lo), (x + 0.5, ci.hi)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    name.clone(),
                    (x + 0.3, ymax * 0.02),
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

/// All figures `(file name, SVG)`.
pub fn figures(audit: &Audit) -> Result<Vec<(String, String)>, String> {
    let mut v = vec![
        (
            "heatmap.svg".to_string(),
            heatmap(&audit.observed, audit.groups)?,
        ),
        ("similarity.svg".to_string(), scatter(&audit.observed)?),
        ("rates.svg".to_string(), bars(audit)?),
    ];
    if let Some(cf) = &audit.counterfactual {
        v.push((
            "heatmap_swapped.svg".to_string(),
            heatmap(cf, audit.groups)?,
        ));
    }
    Ok(v)
}

/// Fairness–performance trade-off: return against the in-group HELP gap,
/// one point per sweep point, with 95% intervals over seeds on both axes.
pub fn tradeoff(points: &[crate::TradeoffPoint]) -> Result<String, String> {
    let fin = |v: f64| if v.is_finite() { v } else { 0.0 };
    let (mut x0, mut x1, mut y0, mut y1) = (0.0f64, 1e-3f64, f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        x0 = x0.min(fin(p.help_gap.lo));
        x1 = x1.max(fin(p.help_gap.hi));
        y0 = y0.min(fin(p.mean_return.lo));
        y1 = y1.max(fin(p.mean_return.hi));
    }
    if y0.partial_cmp(&y1) != Some(std::cmp::Ordering::Less) {
        (y0, y1) = (y0.min(0.0) - 1.0, y1.max(0.0) + 1.0);
    }
    let (dx, dy) = ((x1 - x0) * 0.08, (y1 - y0) * 0.08);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Fairness–performance trade-off (mean ± 95% CI over seeds)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0 - dx)..(x1 + dx), (y0 - dy)..(y1 + dy))
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("in-group HELP gap (in − out, per edge-step)")
            .y_desc("mean episode return")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, y0 - dy), (0.0, y1 + dy)],
                BLACK.mix(0.4),
            )))
            .map_err(err)?;
        let color = RGBColor(31, 119, 180);
        for p in points {
            let (x, y) = (fin(p.help_gap.value), fin(p.mean_return.value));
            chart
                .draw_series([
                    PathElement::new(
                        vec![(fin(p.help_gap.lo), y), (fin(p.help_gap.hi), y)],
                        color,
                    ),
                    PathElement::new(
                        vec![(x, fin(p.mean_return.lo)), (x, fin(p.mean_return.hi))],
                        color,
                    ),
                ])
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 4, color.filled())))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    p.label.clone(),
                    (x, y),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}
