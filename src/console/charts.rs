//! The dashboard's charts, drawn on the server as SVG by `plotters` and put into the page as they
//! are: no script, nothing fetched, text that the page's fonts render. Counts only.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::services::stats::RegionHour;

const GREEN: RGBColor = RGBColor(11, 110, 79);
const YELLOW: RGBColor = RGBColor(242, 194, 0);
const RED: RGBColor = RGBColor(179, 38, 30);
const BLUE: RGBColor = RGBColor(36, 99, 176);
const GREY: RGBColor = RGBColor(95, 99, 104);
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Draws with `draw` on an SVG of `size`; the SVG, or a line saying it could not be drawn.
fn svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root).and_then(|()| root.present().map_err(Into::into))
    };
    match drawn {
        Ok(()) => out,
        Err(e) => {
            tracing::warn!(error = %e, "a dashboard chart was not drawn");
            "<p class=\"problem\">图表暂时无法显示</p>".into()
        }
    }
}

/// A round upper bound for an axis that must show `max`.
fn ceiling(max: u32) -> u32 {
    let max = max.max(1);
    let step = 10u32.pow(max.ilog10()).max(1);
    max.div_ceil(step) * step
}

/// Scans per hour, each bar stacked green, yellow, red.
pub fn scans_by_hour(hours: &[RegionHour]) -> String {
    svg((760, 300), |root| {
        root.fill(&WHITE)?;
        let top = ceiling(hours.iter().map(RegionHour::total).max().unwrap_or(0));
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5f64..(hours.len() as f64 - 0.5), 0u32..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(hours.len())
            .x_label_formatter(&|x| {
                let index = x.round() as usize;
                hours
                    .get(index)
                    .map(|h| format!("{}时", h.hour))
                    .unwrap_or_default()
            })
            .y_desc("扫码次数")
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        for (color, part) in [(GREEN, 0usize), (YELLOW, 1), (RED, 2)] {
            chart
                .draw_series(hours.iter().enumerate().map(|(i, h)| {
                    let counts = [h.green, h.yellow, h.red];
                    let below: u32 = counts[..part].iter().sum();
                    let x = i as f64;
                    Rectangle::new(
                        [(x - 0.38, below), (x + 0.38, below + counts[part])],
                        color.filled(),
                    )
                }))?
                .label(["绿码", "黄码", "红码"][part])
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(GREY)
            .draw()?;
        Ok(())
    })
}

/// The share of each hour's scans that had no location, in per cent.
pub fn unlocated_share(hours: &[RegionHour]) -> String {
    svg((760, 240), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5f64..(hours.len() as f64 - 0.5), 0f64..100f64)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(hours.len())
            .x_label_formatter(&|x| {
                hours
                    .get(x.round() as usize)
                    .map(|h| format!("{}时", h.hour))
                    .unwrap_or_default()
            })
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .y_desc("未定位占比")
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        let points: Vec<(f64, f64)> = hours
            .iter()
            .enumerate()
            .filter(|(_, h)| h.total() > 0)
            .map(|(i, h)| {
                (
                    i as f64,
                    100.0 * f64::from(h.unlocated) / f64::from(h.total()),
                )
            })
            .collect();
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            BLUE.stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 3, BLUE.filled())),
        )?;
        Ok(())
    })
}

/// Horizontal bars, one per (label, count), largest scale first.
fn bars(rows: &[(String, u32)], color: RGBColor, axis: &str) -> String {
    let height = 40 + 34 * rows.len().max(1) as u32;
    svg((760, height), |root| {
        root.fill(&WHITE)?;
        let top = ceiling(rows.iter().map(|(_, n)| *n).max().unwrap_or(0));
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(220)
            .build_cartesian_2d(0u32..top, -0.5f64..(n - 0.5))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|y| {
                // The first row at the top.
                let index = (n - 1.0 - y.round()) as usize;
                rows.get(index)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default()
            })
            .x_desc(axis)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, count))| {
            let y = n - 1.0 - i as f64;
            Rectangle::new([(0, y - 0.35), (*count, y + 0.35)], color.filled())
        }))?;
        chart.draw_series(rows.iter().enumerate().map(|(i, (_, count))| {
            let y = n - 1.0 - i as f64;
            Text::new(
                count.to_string(),
                (*count, y),
                (FONT, 12).into_font().color(&GREY),
            )
        }))?;
        Ok(())
    })
}

/// Venues by what became of them: applied, issued a code, scanned in the last 24 hours.
pub fn venues(pending: u32, approved: u32, active: u32) -> String {
    bars(
        &[
            ("已发码场所".to_owned(), approved),
            ("24小时内有扫码".to_owned(), active),
            ("待审核申请".to_owned(), pending),
        ],
        GREEN,
        "场所数",
    )
}

/// The busiest venues of the last 24 hours.
pub fn top_venues(rows: &[(String, u32)]) -> String {
    bars(rows, BLUE, "24小时扫码次数")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(ceiling(0), 1);
        assert_eq!(ceiling(7), 7);
        assert_eq!(ceiling(13), 20);
        assert_eq!(ceiling(230), 300);
        assert_eq!(ceiling(1000), 1000);
    }

    #[test]
    fn a_chart_is_an_svg_with_its_labels_escaped() {
        let hours: Vec<RegionHour> = (0..24)
            .map(|hour| RegionHour {
                hour,
                green: hour * 3,
                yellow: 1,
                red: u32::from(hour == 5),
                unlocated: 1,
            })
            .collect();
        let chart = scans_by_hour(&hours);
        assert!(chart.starts_with("<svg"), "{chart}");
        assert!(chart.contains("绿码") && chart.contains("23时"));
        let top = top_venues(&[("<script>店</script>".to_owned(), 5)]);
        assert!(top.contains("&lt;script&gt;") && !top.contains("<script>"));
        assert!(unlocated_share(&hours).contains("未定位占比"));
    }
}
