//! The names of one chunk of work: names already checked and in ASCII (see `input`), and the dig-style
//! `@SERVER` arguments split off the NAME arguments.

/// The names of one chunk, with the `@SERVER` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Names and addresses to look up, in input order.
    pub names: Vec<String>,
    /// `@SERVER` arguments, without the `@`.
    pub at_servers: Vec<String>,
}

/// Splits dig-style `@SERVER` arguments from the names among which they were given.
pub fn split_at_servers(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (servers, names): (Vec<_>, Vec<_>) = args.iter().cloned().partition(|a| a.starts_with('@'));
    let servers = servers.into_iter().map(|s| s[1..].to_string()).collect();
    (names, servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_arguments_are_split_from_names() {
        let args: Vec<String> = ["a.test", "@127.0.0.1:5353", "b.test"].map(String::from).to_vec();
        let (names, servers) = split_at_servers(&args);
        assert_eq!(names, ["a.test", "b.test"]);
        assert_eq!(servers, ["127.0.0.1:5353"]);
    }
}
