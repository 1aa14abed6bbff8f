//! getaddrinfo's words as the JSON and the tables spell them: the hints asked for, one addrinfo row, and a
//! failure. The C numbers become snake_case names, and what a call did not tell is null.

use std::fmt;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::lookup::{AddrRow, Family, GaiFailure, Hints, Protocol, SockType};

/// An address family: `any` only in hints (AF_UNSPEC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FamilyName {
    /// AF_UNSPEC: no restriction.
    Any,
    /// AF_INET.
    Inet,
    /// AF_INET6.
    Inet6,
}

/// A socket type: `any` only in hints (ai_socktype 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketTypeName {
    /// No restriction.
    Any,
    /// SOCK_STREAM.
    Stream,
    /// SOCK_DGRAM.
    Dgram,
    /// SOCK_RAW.
    Raw,
    /// SOCK_SEQPACKET.
    Seqpacket,
    /// SOCK_DCCP.
    Dccp,
}

/// A protocol: `any` is ai_protocol 0 (in hints no restriction; in a result the socket type's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolName {
    /// ai_protocol 0.
    Any,
    /// IPPROTO_TCP.
    Tcp,
    /// IPPROTO_UDP.
    Udp,
    /// IPPROTO_SCTP.
    Sctp,
    /// IPPROTO_DCCP.
    Dccp,
    /// IPPROTO_UDPLITE.
    Udplite,
}

/// Each name as the JSON spells it, for table cells and CSV fields.
macro_rules! names {
    ($($ty:ty { $($variant:ident => $text:literal),* $(,)? })*) => {$(
        impl $ty {
            /// The name as the JSON spells it.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
    )*};
}

names! {
    FamilyName { Any => "any", Inet => "inet", Inet6 => "inet6" }
    SocketTypeName {
        Any => "any", Stream => "stream", Dgram => "dgram", Raw => "raw", Seqpacket => "seqpacket", Dccp => "dccp",
    }
    ProtocolName { Any => "any", Tcp => "tcp", Udp => "udp", Sctp => "sctp", Dccp => "dccp", Udplite => "udplite" }
}

/// getaddrinfo's hints as the report states them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HintsReport {
    /// ai_family.
    pub family: FamilyName,
    /// ai_socktype.
    pub socket_type: SocketTypeName,
    /// ai_protocol.
    pub protocol: ProtocolName,
    /// The AI_* flags set, by their C names, in the order the headers list them.
    pub flags: Vec<&'static str>,
}

impl FamilyName {
    /// The name of a family restriction.
    pub fn of(family: Family) -> Self {
        match family {
            Family::Any => FamilyName::Any,
            Family::Inet => FamilyName::Inet,
            Family::Inet6 => FamilyName::Inet6,
        }
    }
}

impl HintsReport {
    /// Describes the hints that were used.
    pub fn from_hints(hints: &Hints) -> Self {
        HintsReport {
            family: FamilyName::of(hints.family),
            socket_type: match hints.socktype {
                SockType::Any => SocketTypeName::Any,
                SockType::Stream => SocketTypeName::Stream,
                SockType::Dgram => SocketTypeName::Dgram,
                SockType::Raw => SocketTypeName::Raw,
            },
            protocol: match hints.protocol {
                None => ProtocolName::Any,
                Some(Protocol::Tcp) => ProtocolName::Tcp,
                Some(Protocol::Udp) => ProtocolName::Udp,
            },
            flags: hints.flag_names(),
        }
    }

    /// `family=any socket_type=any protocol=any flags=AI_CANONNAME`, for a table's notes.
    pub fn text(&self) -> String {
        let flags = if self.flags.is_empty() {
            "none".to_string()
        } else {
            self.flags.join("|")
        };
        format!(
            "family={} socket_type={} protocol={} flags={flags}",
            self.family.name(),
            self.socket_type.name(),
            self.protocol.name()
        )
    }
}

/// One addrinfo result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AddressRow {
    /// ai_family: inet or inet6.
    pub family: FamilyName,
    /// ai_socktype; null for a number without a name here.
    pub socket_type: Option<SocketTypeName>,
    /// ai_protocol; null for a number without a name here.
    pub protocol: Option<ProtocolName>,
    /// The address.
    pub address: IpAddr,
    /// The port of the service asked for; null when no service was.
    pub port: Option<u16>,
    /// The IPv6 scope id of a link-local address; null otherwise.
    pub scope_id: Option<u32>,
    /// The interface that scope id names; null otherwise.
    pub scope: Option<String>,
}

impl AddressRow {
    /// A row from the lookup layer, whose names are the C constants' lower-case words or the number.
    pub fn from_lookup(row: &AddrRow, with_service: bool) -> Self {
        let socket_type = match row.socktype.as_str() {
            "stream" => Some(SocketTypeName::Stream),
            "dgram" => Some(SocketTypeName::Dgram),
            "raw" => Some(SocketTypeName::Raw),
            "5" => Some(SocketTypeName::Seqpacket),
            "6" => Some(SocketTypeName::Dccp),
            _ => None,
        };
        let protocol = match row.protocol.as_str() {
            "0" => Some(ProtocolName::Any),
            "tcp" => Some(ProtocolName::Tcp),
            "udp" => Some(ProtocolName::Udp),
            "sctp" => Some(ProtocolName::Sctp),
            "dccp" => Some(ProtocolName::Dccp),
            "udplite" => Some(ProtocolName::Udplite),
            _ => None,
        };
        AddressRow {
            family: if row.address.is_ipv4() {
                FamilyName::Inet
            } else {
                FamilyName::Inet6
            },
            socket_type,
            protocol,
            address: row.address,
            port: with_service.then_some(row.port),
            scope_id: row.scope_id,
            scope: row.scope.clone(),
        }
    }

    /// The address with its `%scope`, as the table shows it.
    pub fn address_text(&self) -> String {
        match &self.scope {
            Some(scope) => format!("{}%{scope}", self.address),
            None => self.address.to_string(),
        }
    }

    /// The socket type's name, `?` for one without a name.
    pub fn socket_type_text(&self) -> &'static str {
        self.socket_type.map_or("?", SocketTypeName::name)
    }

    /// The protocol's name, `?` for one without a name.
    pub fn protocol_text(&self) -> &'static str {
        self.protocol.map_or("?", ProtocolName::name)
    }
}

/// A getaddrinfo or getnameinfo failure as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LookupError {
    /// The EAI_* constant's name.
    pub code: &'static str,
    /// What it means, in plain words.
    pub message: String,
}

impl From<&GaiFailure> for LookupError {
    fn from(f: &GaiFailure) -> Self {
        LookupError {
            code: f.code,
            message: f.message.clone(),
        }
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_row(socktype: &str, protocol: &str) -> AddrRow {
        AddrRow {
            family: "inet6",
            socktype: socktype.into(),
            protocol: protocol.into(),
            address: "fe80::1".parse().unwrap(),
            port: 0,
            scope_id: Some(1),
            scope: Some("lo".into()),
        }
    }

    #[test]
    fn numbers_become_names_and_unknown_ones_null() {
        let raw = AddressRow::from_lookup(&lookup_row("raw", "0"), false);
        let json = serde_json::to_value(&raw).unwrap();
        assert_eq!(json["family"], "inet6");
        assert_eq!(json["socket_type"], "raw");
        assert_eq!(json["protocol"], "any", "ai_protocol 0 is a name, not \"0\"");
        assert_eq!(json["port"], serde_json::Value::Null, "no service asked");
        assert_eq!(raw.address_text(), "fe80::1%lo");
        let odd = AddressRow::from_lookup(&lookup_row("99", "142"), true);
        assert_eq!((odd.socket_type, odd.protocol, odd.port), (None, None, Some(0)));
        assert_eq!((odd.socket_type_text(), odd.protocol_text()), ("?", "?"));
    }

    #[test]
    fn hints_read_as_settings() {
        let hints = Hints {
            canonname: true,
            protocol: Some(Protocol::Udp),
            ..Hints::addresses(Family::Inet6, SockType::Dgram)
        };
        assert_eq!(
            HintsReport::from_hints(&hints).text(),
            "family=inet6 socket_type=dgram protocol=udp flags=AI_CANONNAME"
        );
    }
}
