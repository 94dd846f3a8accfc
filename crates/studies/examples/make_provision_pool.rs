//! Writes a generated Batch Shipyard pool of any size as a JSON-lines export,
//! to look at the provisioning figures at scale (24, 1,500, 10,000 nodes).
//!
//! cargo run -p expost-studies --example make_provision_pool -- NODES OUT.jsonl [--faulty]
//!
//! `--faulty` makes one node in 20 lose an end event and one in 50 never finish.

use expost_formats::shipyard::write_jsonl;
use expost_testkit::provision::{generate, SynthOptions};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(nodes), Some(out)) = (args.first(), args.get(1)) else {
        return Err("usage: make_provision_pool NODES OUT.jsonl [--faulty]".into());
    };
    let nodes: usize = nodes.parse().map_err(|e| format!("NODES {nodes:?}: {e}"))?;
    let faulty = match args.get(2).map(String::as_str) {
        None => false,
        Some("--faulty") => true,
        Some(other) => return Err(format!("unknown argument {other:?}").into()),
    };
    let pool = generate(&SynthOptions {
        seed: 7,
        partition: format!("bigbatch$pool-{nodes}"),
        nodes,
        images: 3,
        missing_pairs: if faulty { nodes / 20 } else { 0 },
        unfinished: if faulty { nodes / 50 } else { 0 },
        duplicates: if faulty { nodes / 100 } else { 0 },
        collide: true,
        start_spread_s: 60.0 + nodes as f64 * 0.2,
        ..SynthOptions::default()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    write_jsonl(&pool.entities, &mut file)?;
    file.flush()?;
    eprintln!(
        "wrote {} events of {nodes} nodes to {out}",
        pool.entities.len()
    );
    Ok(())
}
