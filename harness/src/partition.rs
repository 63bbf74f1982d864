//! Splitting a run over several CI machines: `--partition hash:M/N` or `count:M/N` keeps
//! shard M of N of the selected scenarios, and the N shards together are the selection,
//! each scenario in exactly one.
//!
//! - `hash:M/N` puts a scenario in a shard by a hash of its id (SHA-256, so the same on every
//!   machine and build): a scenario stays in its shard when others are added or removed.
//! - `count:M/N` deals the selection out in turn, in the order it was loaded (sorted by
//!   path): shards differ in size by at most one, but adding a scenario moves others.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// How scenarios are dealt to shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// By a hash of the scenario id.
    Hash,
    /// In turn, by position in the selection.
    Count,
}

/// One shard of a run: `shard` of `total`, counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    pub shard: u32,
    pub total: u32,
}

impl Partition {
    /// Whether the scenario with `id`, at `index` in the selection, is in this shard.
    pub fn selects(&self, index: usize, id: &str) -> bool {
        let total = u64::from(self.total);
        let slot = match self.scheme {
            Scheme::Hash => {
                let digest = Sha256::digest(id.as_bytes());
                u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % total
            }
            Scheme::Count => index as u64 % total,
        };
        slot == u64::from(self.shard - 1)
    }

    /// The items of `selection` in this shard, in their order; `id` names each.
    pub fn apply<T>(&self, selection: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        selection
            .into_iter()
            .enumerate()
            .filter(|(index, item)| self.selects(*index, id(item)))
            .map(|(_, item)| item)
            .collect()
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let expected = || format!("`{text}`: expected hash:M/N or count:M/N with 1 <= M <= N");
        let (scheme, shards) = text.split_once(':').ok_or_else(expected)?;
        let scheme = match scheme {
            "hash" => Scheme::Hash,
            "count" => Scheme::Count,
            _ => return Err(expected()),
        };
        let (shard, total) = shards.split_once('/').ok_or_else(expected)?;
        let shard: u32 = shard.parse().map_err(|_| expected())?;
        let total: u32 = total.parse().map_err(|_| expected())?;
        if shard == 0 || shard > total {
            return Err(expected());
        }
        Ok(Partition {
            scheme,
            shard,
            total,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Hash => "hash",
            Scheme::Count => "count",
        };
        write!(f, "{scheme}:{}/{}", self.shard, self.total)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;
    use crate::scenario::load::load_all;

    fn catalogue_ids() -> Vec<String> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let (scenarios, errors) = load_all(&[dir]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(scenarios.len() > 100);
        scenarios.into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn the_shards_together_are_the_selection_each_scenario_once() {
        let ids = catalogue_ids();
        for scheme in ["hash", "count"] {
            for total in [1, 2, 3, 7] {
                let mut seen = Vec::new();
                for shard in 1..=total {
                    let partition: Partition = format!("{scheme}:{shard}/{total}").parse().unwrap();
                    let part = partition.apply(ids.clone(), |id| id.as_str());
                    if total > 1 {
                        assert!(part.len() < ids.len(), "{partition} holds everything");
                    }
                    seen.extend(part);
                }
                assert_eq!(
                    seen.len(),
                    ids.len(),
                    "{scheme} over {total}: a scenario twice"
                );
                let seen: BTreeSet<_> = seen.into_iter().collect();
                let all: BTreeSet<_> = ids.iter().cloned().collect();
                assert_eq!(seen, all, "{scheme} over {total}");
            }
        }
    }

    #[test]
    fn count_shards_differ_by_at_most_one() {
        let ids = catalogue_ids();
        let sizes: Vec<usize> = (1..=3)
            .map(|shard| {
                Partition {
                    scheme: Scheme::Count,
                    shard,
                    total: 3,
                }
                .apply(ids.clone(), |id| id.as_str())
                .len()
            })
            .collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
    }

    #[test]
    fn a_hash_shard_keeps_its_scenarios_when_others_are_added() {
        let ids = catalogue_ids();
        let partition: Partition = "hash:2/3".parse().unwrap();
        let before = partition.apply(ids.clone(), |id| id.as_str());
        let mut more = ids.clone();
        more.insert(0, "new/a-scenario-added-first".into());
        more.push("new/another".into());
        let after = partition.apply(more, |id| id.as_str());
        assert!(before.iter().all(|id| after.contains(id)));
    }

    #[test]
    fn bad_partitions_say_what_was_expected() {
        for text in [
            "",
            "hash",
            "hash:1",
            "hash:0/2",
            "hash:3/2",
            "count:a/2",
            "mod:1/2",
            "hash:1/0",
        ] {
            let error = text.parse::<Partition>().unwrap_err();
            assert!(
                error.contains("expected hash:M/N or count:M/N"),
                "{text}: {error}"
            );
        }
        assert_eq!(
            "count:2/5".parse::<Partition>().unwrap().to_string(),
            "count:2/5"
        );
    }
}
