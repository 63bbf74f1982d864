//! `mailharness list`: the scenarios, their tags and the outcome each expects.

use std::path::PathBuf;

use mailharness::report::table;

use super::select_scenarios;

/// Arguments of `mailharness list`.
#[derive(Debug, clap::Args)]
#[command(about = "List scenarios with their tags and expected outcome")]
pub struct ListArgs {
    /// Scenario files or directories, or builtin[:TOPIC|:ID] for the catalogue inside the
    /// binary [default: ./scenarios if there is one, else builtin]
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,

    /// List only scenarios carrying this tag (repeatable: any of them)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,

    /// Keep only shard M of N of the selection, for running over several CI machines:
    /// hash:M/N (by scenario id: a scenario stays in its shard as others are added) or
    /// count:M/N (dealt in turn: even shards). The N shards together are the selection.
    #[arg(long, value_name = "SCHEME:M/N")]
    partition: Option<mailharness::partition::Partition>,
}

pub fn run(args: &ListArgs) -> anyhow::Result<u8> {
    let (scenarios, errors) = select_scenarios(&args.paths, &args.tags, args.partition)?;
    let rows: Vec<[String; 3]> = scenarios
        .iter()
        .map(|loaded| {
            [
                loaded.id.clone(),
                loaded.scenario.tags.join(","),
                loaded.scenario.expect.get_ref().to_string(),
            ]
        })
        .collect();
    out!("{}", table(&["scenario", "tags", "expected"], &rows))?;
    outln!("{} scenarios", rows.len())?;
    for error in &errors {
        errln!("{:?}", miette::Report::new(error.clone()));
    }
    Ok(if errors.is_empty() { 0 } else { 2 })
}
