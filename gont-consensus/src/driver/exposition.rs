//! Malachite's metrics as one valid exposition. Each consensus engine of
//! the process registers its metrics under its own label (the moniker), and
//! `prometheus_client` writes each registration as a family of its own: a
//! node that runs two chains would repeat `# HELP` and `# TYPE` for every
//! family, which the text format forbids (`promtool check metrics` refuses
//! it, and strict scrapers may too). [`merge_families`] writes each family
//! once, with the samples of every engine under it.

/// `text` with the samples of each metric family gathered under one
/// `# HELP`/`# TYPE`/`# UNIT` header, families in the order they first
/// appear, and `# EOF` (if present) once at the end.
pub(crate) fn merge_families(text: &str) -> String {
    // (family, header lines, sample lines), in first-seen order.
    let mut families: Vec<(String, Vec<&str>, Vec<&str>)> = Vec::new();
    let mut current: Option<usize> = None;
    let mut eof = false;
    for line in text.lines() {
        if line == "# EOF" {
            eof = true;
            continue;
        }
        let header = ["# HELP ", "# TYPE ", "# UNIT "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        if let Some(rest) = header {
            let name = rest.split(' ').next().unwrap_or_default();
            let index = match families.iter().position(|(family, _, _)| family == name) {
                Some(index) => index,
                None => {
                    families.push((name.to_owned(), Vec::new(), Vec::new()));
                    families.len() - 1
                }
            };
            if let Some((_, headers, _)) = families.get_mut(index) {
                let kind = line.get(..7).unwrap_or_default();
                if !headers.iter().any(|h| h.starts_with(kind)) {
                    headers.push(line);
                }
            }
            current = Some(index);
            continue;
        }
        let index = match current {
            Some(index) => index,
            None => {
                families.push((String::new(), Vec::new(), Vec::new()));
                let index = families.len() - 1;
                current = Some(index);
                index
            }
        };
        if let Some((_, _, samples)) = families.get_mut(index) {
            samples.push(line);
        }
    }
    let mut out = String::with_capacity(text.len());
    for (_, headers, samples) in &families {
        for line in headers.iter().chain(samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
    if eof {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merge_families;

    #[test]
    fn each_family_is_written_once_with_every_engines_samples() {
        let two_engines = "\
# HELP malachitebft_core_consensus_height Current height.
# TYPE malachitebft_core_consensus_height gauge
malachitebft_core_consensus_height{moniker=\"node1-31337\"} 12
# HELP malachitebft_core_consensus_round Current round.
# TYPE malachitebft_core_consensus_round gauge
malachitebft_core_consensus_round{moniker=\"node1-31337\"} 0
# HELP malachitebft_core_consensus_height Current height.
# TYPE malachitebft_core_consensus_height gauge
malachitebft_core_consensus_height{moniker=\"node1-31338\"} 9
# HELP malachitebft_core_consensus_time_per_block Time per block.
# TYPE malachitebft_core_consensus_time_per_block histogram
# UNIT malachitebft_core_consensus_time_per_block seconds
malachitebft_core_consensus_time_per_block_sum{moniker=\"node1-31338\"} 1.5
malachitebft_core_consensus_time_per_block_count{moniker=\"node1-31338\"} 3
# HELP malachitebft_core_consensus_round Current round.
# TYPE malachitebft_core_consensus_round gauge
malachitebft_core_consensus_round{moniker=\"node1-31338\"} 1
# EOF
";
        let merged = merge_families(two_engines);
        assert_eq!(
            merged,
            "\
# HELP malachitebft_core_consensus_height Current height.
# TYPE malachitebft_core_consensus_height gauge
malachitebft_core_consensus_height{moniker=\"node1-31337\"} 12
malachitebft_core_consensus_height{moniker=\"node1-31338\"} 9
# HELP malachitebft_core_consensus_round Current round.
# TYPE malachitebft_core_consensus_round gauge
malachitebft_core_consensus_round{moniker=\"node1-31337\"} 0
malachitebft_core_consensus_round{moniker=\"node1-31338\"} 1
# HELP malachitebft_core_consensus_time_per_block Time per block.
# TYPE malachitebft_core_consensus_time_per_block histogram
# UNIT malachitebft_core_consensus_time_per_block seconds
malachitebft_core_consensus_time_per_block_sum{moniker=\"node1-31338\"} 1.5
malachitebft_core_consensus_time_per_block_count{moniker=\"node1-31338\"} 3
# EOF
"
        );
        // One engine: unchanged.
        let one = "# HELP a A.\n# TYPE a gauge\na 1\n# EOF\n";
        assert_eq!(merge_families(one), one);
    }
}
