//! What a server's first bytes say, in words: the greetings of servers that speak first (SSH, SMTP, FTP, POP3,
//! IMAP, MySQL) and the DNS and NTP replies probe provokes over UDP. Pure and self-contained (no crate imports):
//! the fuzzer compiles this file on its own, since the bytes come from the network.

/// The longest text kept from a greeting line.
const LINE_MAX: usize = 120;

/// Names what a TCP server said first (`port` breaks the tie between the `220` greetings of SMTP and FTP).
pub fn tcp_greeting(port: u16, data: &[u8]) -> Option<String> {
    if let Some(version) = mysql_version(data) {
        return Some(format!("MySQL {version}"));
    }
    let line = first_line(data)?;
    let name = if line.starts_with("SSH-") {
        "SSH"
    } else if line.starts_with("+OK") {
        "POP3"
    } else if line.starts_with("* OK") || line.starts_with("* PREAUTH") {
        "IMAP"
    } else if line.starts_with("220") {
        let upper = line.to_ascii_uppercase();
        if upper.contains("FTP") || port == 21 {
            "FTP"
        } else if upper.contains("SMTP") || matches!(port, 25 | 465 | 587) {
            "SMTP"
        } else {
            return None;
        }
    } else {
        return None;
    };
    Some(format!("{name}: {line}"))
}

/// Names a UDP reply to probe's DNS or NTP request.
pub fn udp_reply(port: u16, data: &[u8]) -> Option<String> {
    match port {
        53 => dns_reply(data),
        123 => ntp_reply(data),
        _ => None,
    }
}

/// `DNS: NOERROR, 1 answer` from a DNS response's header.
pub fn dns_reply(data: &[u8]) -> Option<String> {
    if data.len() < 12 || data[2] & 0x80 == 0 {
        return None; // too short for a header, or not a response
    }
    let rcode = data[3] & 0x0f;
    let answers = u16::from_be_bytes([data[6], data[7]]);
    let name = match rcode {
        0 => "NOERROR".to_string(),
        1 => "FORMERR".to_string(),
        2 => "SERVFAIL".to_string(),
        3 => "NXDOMAIN".to_string(),
        4 => "NOTIMP".to_string(),
        5 => "REFUSED".to_string(),
        n => format!("RCODE {n}"),
    };
    let truncated = if data[2] & 0x02 != 0 { ", truncated" } else { "" };
    Some(format!(
        "DNS: {name}, {answers} answer{}{truncated}",
        if answers == 1 { "" } else { "s" }
    ))
}

/// `NTP: stratum 2` from an NTP server's reply; a kiss-o'-death (stratum 0) names its code.
pub fn ntp_reply(data: &[u8]) -> Option<String> {
    if data.len() < 48 || data[0] & 0x07 != 4 {
        return None; // not a server-mode reply
    }
    let stratum = data[1];
    if stratum == 0 {
        let code: String = data[12..16]
            .iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(|&b| b as char)
            .collect();
        return Some(format!("NTP: stratum 0 (kiss-o'-death {code})"));
    }
    Some(format!("NTP: stratum {stratum}"))
}

/// The server version of a MySQL handshake (protocol 10): a 3-byte length, sequence 0, 0x0a, then the
/// version as a NUL-terminated string.
fn mysql_version(data: &[u8]) -> Option<String> {
    let (&len_lo, rest) = data.split_first()?;
    let len = usize::from(len_lo) | usize::from(*rest.first()?) << 8 | usize::from(*rest.get(1)?) << 16;
    if rest.get(2) != Some(&0) || data.get(4) != Some(&0x0a) || len < 2 {
        return None;
    }
    let body = data.get(5..)?;
    let end = body.iter().position(|&b| b == 0)?;
    let version = &body[..end];
    let printable = !version.is_empty() && version.iter().all(|b| b.is_ascii_graphic()) && end < 64;
    printable.then(|| String::from_utf8_lossy(version).into_owned())
}

/// The first line of text, printable ASCII only and bounded; None when the data does not start as text.
fn first_line(data: &[u8]) -> Option<String> {
    let end = data
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(data.len());
    let line = &data[..end];
    if line.is_empty() || !line.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    Some(String::from_utf8_lossy(&line[..line.len().min(LINE_MAX)]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_named() {
        let ssh = tcp_greeting(22, b"SSH-2.0-OpenSSH_9.6\r\n");
        assert_eq!(ssh.as_deref(), Some("SSH: SSH-2.0-OpenSSH_9.6"));
        let smtp = tcp_greeting(2525, b"220 mail.example ESMTP Postfix\r\n");
        assert_eq!(smtp.as_deref(), Some("SMTP: 220 mail.example ESMTP Postfix"));
        assert_eq!(
            tcp_greeting(21, b"220 Welcome\r\n").as_deref(),
            Some("FTP: 220 Welcome")
        );
        assert_eq!(
            tcp_greeting(25, b"220 hello\r\n").as_deref(),
            Some("SMTP: 220 hello")
        );
        assert_eq!(
            tcp_greeting(110, b"+OK POP3 ready\r\n").as_deref(),
            Some("POP3: +OK POP3 ready")
        );
        assert_eq!(
            tcp_greeting(143, b"* OK [CAPABILITY IMAP4rev1] ready\r\n").as_deref(),
            Some("IMAP: * OK [CAPABILITY IMAP4rev1] ready")
        );
        let mut mysql = vec![0x4a, 0, 0, 0, 0x0a];
        mysql.extend_from_slice(b"8.0.36\0\x01\x02");
        assert_eq!(tcp_greeting(3306, &mysql).as_deref(), Some("MySQL 8.0.36"));
        assert_eq!(tcp_greeting(80, b"HTTP/1.1 400 Bad Request\r\n"), None);
        assert_eq!(tcp_greeting(22, b"SSH-\x1b[31m"), None, "escapes are never named");
        assert_eq!(tcp_greeting(22, b""), None);
    }

    #[test]
    fn dns_and_ntp_replies_are_decoded() {
        let mut dns = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        assert_eq!(dns_reply(&dns).as_deref(), Some("DNS: NOERROR, 1 answer"));
        dns[3] = 0x85;
        dns[7] = 0;
        assert_eq!(udp_reply(53, &dns).as_deref(), Some("DNS: REFUSED, 0 answers"));
        dns[2] = 0x01; // a query, not a response
        assert_eq!(dns_reply(&dns), None);
        assert_eq!(dns_reply(&dns[..5]), None);
        let mut ntp = vec![0u8; 48];
        ntp[0] = 0x24;
        ntp[1] = 2;
        assert_eq!(udp_reply(123, &ntp).as_deref(), Some("NTP: stratum 2"));
        ntp[1] = 0;
        ntp[12..16].copy_from_slice(b"RATE");
        assert_eq!(
            ntp_reply(&ntp).as_deref(),
            Some("NTP: stratum 0 (kiss-o'-death RATE)")
        );
        ntp[0] = 0x23; // client mode
        assert_eq!(ntp_reply(&ntp), None);
        assert_eq!(udp_reply(9, &ntp), None);
    }
}
