//! glibc's search-list rule: which names res_search asks for a name, in which order, and why (ndots).

use schemars::JsonSchema;
use serde::Serialize;

/// One name glibc's stub resolver would ask, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Candidate {
    /// The absolute name asked (trailing dot).
    pub name: String,
    /// The search-list suffix appended, None for the name as given.
    pub suffix: Option<String>,
}

/// How the ndots rule ordered the candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SearchRule {
    /// Dots in the name as given (a final dot not counted).
    pub dots: usize,
    /// `options ndots:N` from resolv.conf.
    pub ndots: usize,
    /// The name ends with a dot, so no search list applies.
    pub absolute: bool,
    /// The rule in words.
    pub text: String,
}

/// The names glibc's res_search asks for `name`, in its order: an absolute name as given only; a name with at
/// least ndots dots as given first, then with each suffix; otherwise each suffix first, then as given.
pub fn glibc_order(name: &str, search: &[String], ndots: usize) -> (Vec<Candidate>, SearchRule) {
    let absolute = name.ends_with('.');
    let bare = name.trim_end_matches('.');
    let dots = bare.matches('.').count();
    let as_given = Candidate {
        name: format!("{bare}."),
        suffix: None,
    };
    let expanded: Vec<Candidate> = search
        .iter()
        .map(|s| s.trim_matches('.'))
        .filter(|s| !s.is_empty())
        .map(|s| Candidate {
            name: format!("{bare}.{s}."),
            suffix: Some(s.to_string()),
        })
        .collect();
    let plural = |n: usize| if n == 1 { "dot" } else { "dots" };
    let (candidates, text) = if absolute {
        (
            vec![as_given],
            format!("'{name}' ends with a dot, so it is asked as given and the search list does not apply"),
        )
    } else if expanded.is_empty() {
        (
            vec![as_given],
            "resolv.conf has no search list, so the name is asked as given".to_string(),
        )
    } else if dots >= ndots {
        let mut all = vec![as_given];
        all.extend(expanded);
        (
            all,
            format!(
                "'{name}' has {dots} {} (ndots:{ndots} or more), so it is asked as given first and the search list only after that fails",
                plural(dots)
            ),
        )
    } else {
        let mut all = expanded;
        all.push(as_given);
        (
            all,
            format!(
                "'{name}' has {dots} {}, fewer than ndots:{ndots}, so the search list is tried before the name as given",
                plural(dots)
            ),
        )
    };
    (
        candidates,
        SearchRule {
            dots,
            ndots,
            absolute,
            text,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndots_orders_candidates_like_glibc() {
        let search = ["lab.test".to_string(), "corp.test".to_string()];
        let names = |n: &str, ndots| {
            glibc_order(n, &search, ndots)
                .0
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("web", 1), ["web.lab.test.", "web.corp.test.", "web."]);
        assert_eq!(names("a.b", 1), ["a.b.", "a.b.lab.test.", "a.b.corp.test."]);
        assert_eq!(names("a.b", 2), ["a.b.lab.test.", "a.b.corp.test.", "a.b."]);
        assert_eq!(names("web.", 1), ["web."]);
        assert_eq!(glibc_order("web", &[], 1).0.len(), 1);
        let rule = glibc_order("web", &search, 1).1;
        assert_eq!((rule.dots, rule.ndots, rule.absolute), (0, 1, false));
        assert!(rule.text.contains("0 dots, fewer than ndots:1"), "{}", rule.text);
    }
}
