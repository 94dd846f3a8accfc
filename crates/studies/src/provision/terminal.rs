//! What `expost provision` prints on a terminal: the pool, the
//! percentiles of each phase across nodes, the critical path and the
//! stragglers.

use super::{Phase, Provision};
use expost_render::text_table::{render, Align};

fn secs(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:.1}"))
}

/// Percentiles per phase, the spread, the critical path and the stragglers.
pub fn summary(p: &Provision) -> String {
    let s = &p.summary;
    let mut out = format!(
        "pool {} ({} {}): {} nodes, {} ready, {} events, {} images\n",
        p.partition,
        p.offer.as_deref().unwrap_or("?"),
        p.sku.as_deref().unwrap_or("?"),
        s.nodes,
        s.ready_nodes,
        s.events,
        s.images
    );
    out.push_str(&format!(
        "node prep starts spread over {} s; ready times over {} s\n\n",
        secs(s.start_spread_s),
        secs(s.ready_spread_s)
    ));
    let header = [
        ("phase (s)", Align::Left),
        ("nodes", Align::Right),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ];
    let mut names: Vec<&str> = Phase::ALL.iter().map(|p| p.key()).collect();
    names.push("time_to_ready");
    let rows: Vec<Vec<String>> = names
        .iter()
        .filter_map(|name| s.phases.get(*name).map(|st| (name, st)))
        .map(|(name, st)| {
            vec![
                name.to_string(),
                st.count.to_string(),
                secs(Some(st.mean)),
                secs(Some(st.p50)),
                secs(Some(st.p90)),
                secs(Some(st.p99)),
                secs(Some(st.max)),
            ]
        })
        .collect();
    out.push_str(&render(&header, &rows));
    if let Some(cp) = &s.critical_path {
        out.push_str(&format!(
            "\npool ready {} s after the first node prep start; last node {}",
            secs(Some(cp.pool_ready_after_s)),
            cp.node_id
        ));
        if let Some(step) = &cp.slowest {
            let image = step
                .image
                .as_deref()
                .map(|i| format!(" of {i}"))
                .unwrap_or_default();
            out.push_str(&format!(
                ", slowest phase {}{image}: {} s",
                step.phase,
                secs(Some(step.duration))
            ));
        }
        out.push('\n');
    }
    let st = &s.stragglers;
    out.push_str(&format!(
        "stragglers (time to ready > median {} s + {} x MAD {} s): {}\n",
        secs(Some(st.median_s)),
        st.k,
        secs(Some(st.mad_s)),
        if st.nodes.is_empty() {
            "none".to_string()
        } else {
            st.nodes
                .iter()
                .take(10)
                .map(|n| format!("{} ({} s)", n.node_id, secs(Some(n.time_to_ready_s))))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if !s.unfinished_nodes.is_empty() {
        out.push_str(&format!("never ready: {}\n", s.unfinished_nodes.join(", ")));
    }
    out
}
