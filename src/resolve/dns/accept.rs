//! Telling our answer from other datagrams: a reply with another ID, to another question, from another
//! address, or not a response at all is set aside and counted, so a report can say why no answer was taken.

use std::net::SocketAddr;

use hickory_resolver::proto::op::{Message, MessageType, Query, ResponseCode};
use schemars::JsonSchema;
use serde::Serialize;

/// Why a datagram that arrived was not taken as the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// Its ID is not the query's.
    WrongId,
    /// Our ID, but another question.
    WrongQuestion,
    /// It came from another address or port than the server asked.
    WrongSource,
    /// Our ID, but a query, not a response (or too short for a header).
    NotResponse,
}

/// What a datagram is to the query waiting for it.
#[derive(Debug)]
pub enum Verdict {
    /// The answer.
    Ours(Message),
    /// Someone else's datagram, set aside.
    Foreign(Foreign),
    /// Our ID, but it cannot be parsed.
    Malformed(String),
}

/// How many replies were set aside, by reason (all zero in the usual case).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IgnoredReplies {
    /// Replies with another message ID.
    pub wrong_id: u32,
    /// Replies with our ID to another question.
    pub wrong_question: u32,
    /// Datagrams from another address or port than the server's.
    pub wrong_source: u32,
    /// Datagrams with our ID that are queries, not responses.
    pub not_response: u32,
}

impl IgnoredReplies {
    /// Counts one more datagram set aside.
    pub fn count(&mut self, why: Foreign) {
        let n = match why {
            Foreign::WrongId => &mut self.wrong_id,
            Foreign::WrongQuestion => &mut self.wrong_question,
            Foreign::WrongSource => &mut self.wrong_source,
            Foreign::NotResponse => &mut self.not_response,
        };
        *n = n.saturating_add(1);
    }

    /// Adds another set of counts.
    pub fn add(&mut self, other: &IgnoredReplies) {
        self.wrong_id = self.wrong_id.saturating_add(other.wrong_id);
        self.wrong_question = self.wrong_question.saturating_add(other.wrong_question);
        self.wrong_source = self.wrong_source.saturating_add(other.wrong_source);
        self.not_response = self.not_response.saturating_add(other.not_response);
    }

    /// Whether nothing was set aside.
    pub fn is_empty(&self) -> bool {
        *self == IgnoredReplies::default()
    }

    /// "3 replies ignored: wrong ID, 1 from another source port": None when nothing was set aside.
    pub fn text(&self) -> Option<String> {
        let parts: Vec<(u32, &str)> = [
            (self.wrong_id, "wrong ID"),
            (self.wrong_question, "wrong question"),
            (self.wrong_source, "wrong source address or port"),
            (self.not_response, "not a response"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect();
        let total: u32 = parts.iter().map(|(n, _)| n).sum();
        let noun = if total == 1 { "reply" } else { "replies" };
        let reasons = match parts.as_slice() {
            [] => return None,
            [(_, why)] => (*why).to_string(),
            many => many
                .iter()
                .map(|(n, why)| format!("{n} {why}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let text = format!("{total} {noun} ignored: {reasons}");
        Some(text)
    }
}

/// Judges a datagram from `from` against the query sent to `server` with `id`.
pub fn judge(bytes: &[u8], from: SocketAddr, server: SocketAddr, id: u16, query: &Query) -> Verdict {
    if from != server {
        return Verdict::Foreign(Foreign::WrongSource);
    }
    judge_bytes(bytes, id, query)
}

/// Judges bytes that came from the server itself (a TCP answer, or a datagram from the right address).
pub fn judge_bytes(bytes: &[u8], id: u16, query: &Query) -> Verdict {
    let Some(got) = bytes.first_chunk::<2>() else {
        return Verdict::Foreign(Foreign::NotResponse);
    };
    if u16::from_be_bytes(*got) != id {
        return Verdict::Foreign(Foreign::WrongId);
    }
    let message = match Message::from_vec(bytes) {
        Ok(m) => m,
        Err(e) => return Verdict::Malformed(format!("malformed answer ({} bytes): {e}", bytes.len())),
    };
    if message.metadata.message_type != MessageType::Response {
        return Verdict::Foreign(Foreign::NotResponse);
    }
    let same_question = message.queries.len() == 1
        && message.queries[0].name().eq_ignore_root(query.name())
        && message.queries[0].query_type() == query.query_type()
        && message.queries[0].query_class() == query.query_class();
    // Servers may drop the question from an error response (FORMERR, NOTIMP, REFUSED).
    let errors_without_question =
        message.queries.is_empty() && message.metadata.response_code != ResponseCode::NoError;
    if same_question || errors_without_question {
        Verdict::Ours(message)
    } else {
        Verdict::Foreign(Foreign::WrongQuestion)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_resolver::proto::op::OpCode;
    use hickory_resolver::proto::rr::{Name, RecordType};

    use super::*;

    fn q(name: &str) -> Query {
        Query::query(Name::from_str(name).unwrap(), RecordType::A)
    }

    fn response(id: u16, question: Option<Query>, rcode: ResponseCode) -> Vec<u8> {
        let mut m = Message::response(id, OpCode::Query);
        m.metadata.response_code = rcode;
        if let Some(question) = question {
            m.add_query(question);
        }
        m.to_vec().unwrap()
    }

    fn why(v: Verdict) -> Option<Foreign> {
        match v {
            Verdict::Foreign(f) => Some(f),
            _ => None,
        }
    }

    #[test]
    fn accepts_only_our_answer() {
        let query = q("www.lab.test.");
        let judge =
            |id, question: Option<Query>, rcode| why(judge_bytes(&response(id, question, rcode), 7, &query));
        assert_eq!(judge(7, Some(query.clone()), ResponseCode::NoError), None);
        // Case differs: still the same question.
        assert_eq!(judge(7, Some(q("WWW.Lab.Test.")), ResponseCode::NoError), None);
        assert_eq!(
            judge(8, Some(query.clone()), ResponseCode::NoError),
            Some(Foreign::WrongId)
        );
        assert_eq!(
            judge(7, Some(q("other.test.")), ResponseCode::NoError),
            Some(Foreign::WrongQuestion)
        );
        assert_eq!(
            judge(7, None, ResponseCode::NoError),
            Some(Foreign::WrongQuestion)
        );
        assert_eq!(
            judge(7, None, ResponseCode::Refused),
            None,
            "errors may drop the question"
        );
        assert_eq!(why(judge_bytes(&[0], 7, &query)), Some(Foreign::NotResponse));
    }

    #[test]
    fn another_source_is_set_aside_before_anything_else() {
        let query = q("www.lab.test.");
        let bytes = response(7, Some(query.clone()), ResponseCode::NoError);
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        assert_eq!(
            why(judge(&bytes, other, server, 7, &query)),
            Some(Foreign::WrongSource)
        );
        assert!(matches!(
            judge(&bytes, server, server, 7, &query),
            Verdict::Ours(_)
        ));
    }

    #[test]
    fn queries_are_not_answers() {
        let query = q("www.lab.test.");
        let mut m = Message::new(7, MessageType::Query, OpCode::Query);
        m.add_query(query.clone());
        assert_eq!(
            why(judge_bytes(&m.to_vec().unwrap(), 7, &query)),
            Some(Foreign::NotResponse)
        );
    }

    #[test]
    fn garbage_with_our_id_is_a_bad_response() {
        let query = q("www.lab.test.");
        let mut bytes = response(7, Some(query.clone()), ResponseCode::NoError);
        bytes[5] = 3; // claims three questions, carries one
        let Verdict::Malformed(err) = judge_bytes(&bytes, 7, &query) else {
            panic!("malformed")
        };
        assert!(err.starts_with("malformed answer"), "{err}");
    }

    #[test]
    fn ignored_replies_are_named_with_their_counts() {
        let mut n = IgnoredReplies::default();
        assert_eq!(n.text(), None);
        for _ in 0..3 {
            n.count(Foreign::WrongId);
        }
        assert_eq!(n.text().unwrap(), "3 replies ignored: wrong ID");
        n.count(Foreign::WrongSource);
        assert_eq!(
            n.text().unwrap(),
            "4 replies ignored: 3 wrong ID, 1 wrong source address or port"
        );
    }
}
