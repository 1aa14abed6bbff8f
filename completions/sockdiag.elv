
use builtin;
use str;

set edit:completion:arg-completer[sockdiag] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sockdiag'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sockdiag'= {
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand resolve 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
            cand trace 'Find where on the path packets stop: an ICMP traceroute probing every hop at once'
            cand probe 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why'
            cand listen 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent'
            cand sockets 'This host''s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;resolve'= {
            cand -t 'Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when @SERVER or --server asks DNS]'
            cand --type 'Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when @SERVER or --server asks DNS]'
            cand -x 'Reverse lookup through DNS: a PTR query for this address (repeatable)'
            cand --reverse 'Reverse lookup through DNS: a PTR query for this address (repeatable)'
            cand --server 'The DNS server to ask: IP, IP:PORT, [V6]:PORT or a host name [default: the nameservers of /etc/resolv.conf]'
            cand -w 'How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]'
            cand --timeout 'How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]'
            cand --attempts 'How many times to ask each server before giving up (a server that refused the connection is not asked again) [default: 2]'
            cand -f 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)'
            cand --file 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)'
            cand --service 'Service: a port number or a name from the services database (http, ssh, ...) [default: none, port 0]'
            cand --socket-type 'Socket type hint (ai_socktype)'
            cand --protocol 'Protocol hint (ai_protocol)'
            cand --parallel 'How many names to look up at once'
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --tcp 'Ask DNS over TCP only [default: UDP, and TCP when the UDP answer is truncated]'
            cand --dnssec 'DNSSEC: ask DNS directly with the DO bit set, so servers send the signatures (RRSIG rows, with their fields), and show the AD bit of the answer (SERVER column: AD)'
            cand --short 'Print only the answer data, one a line, like dig +short (DNS: every record''s data; system: each address once); exit codes as without it'
            cand --servers-compare 'Ask every server (@A @B ..., or resolv.conf''s) at once and set their answers side by side, one column each, with the differences named (other data, TTLs, NXDOMAIN at one only, no answer); without it several servers are tried in turn'
            cand --compare 'Set each name''s getaddrinfo addresses beside DNS''s A/AAAA answers and explain the differences'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --no-ai-canonname 'Do not set AI_CANONNAME (set by default: the canonical name is asked for)'
            cand --ai-passive 'AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address'
            cand --ai-addrconfig 'AI_ADDRCONFIG: only families this host has a configured address for'
            cand --ai-v4mapped 'AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists'
            cand --ai-all 'AI_ALL: with --ai-v4mapped, IPv6 and mapped IPv4 addresses together'
            cand --ai-numerichost 'AI_NUMERICHOST: NAME must be an IP address; never query a resolver'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;trace'= {
            cand --first-ttl 'TTL of the first hop probed'
            cand -m 'Highest TTL probed'
            cand --max-hops 'Highest TTL probed'
            cand -q 'Probes per hop'
            cand --queries 'Probes per hop'
            cand -N 'At most this many probes awaiting an answer at once [default: unlimited]'
            cand --max-inflight 'At most this many probes awaiting an answer at once [default: unlimited]'
            cand -w 'Longest wait for one probe''s reply (less when farther hops answer fast); bare number = seconds'
            cand --timeout 'Longest wait for one probe''s reply (less when farther hops answer fast); bare number = seconds'
            cand --deadline 'The whole trace ends after this long, counted from the first probe (a silent target ends here) [default: 1.5s, plus the time the waves take to go out with -i or --max-rate]'
            cand -i 'Time between two probes to the same hop (the waves'' spacing; with -c, between the cycles'' starts); routers limit how fast they answer'
            cand --interval 'Time between two probes to the same hop (the waves'' spacing; with -c, between the cycles'' starts); routers limit how fast they answer'
            cand -c 'Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline); cycles start -i apart'
            cand --count 'Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline); cycles start -i apart'
            cand --max-rate 'At most this many probes per second overall [default: no limit]'
            cand -p 'Destination port of --udp or --tcp probes'
            cand --port 'Destination port of --udp or --tcp probes'
            cand --flow 'Which flow the probes take through per-flow load balancers: the ICMP checksum, or the UDP source port (1024-65535) [default: one fixed checksum; a source port the system picks]'
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -n 'Do not look up names of the hops'' addresses (no NAME column)'
            cand --numeric 'Do not look up names of the hops'' addresses (no NAME column)'
            cand --icmp 'Probe with ICMP echo requests (the default)'
            cand --udp 'Probe with UDP datagrams to a port (default 33434; -p to choose)'
            cand --tcp 'Probe with TCP SYNs to a port (default 80; -p to choose): says open, closed or filtered at the target'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;probe'= {
            cand -f 'Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment'
            cand --file 'Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment'
            cand --exclude 'Leave these addresses out: addresses, CIDR blocks and ranges, comma-separated'
            cand --exclude-file 'Leave out the addresses listed in FILE (as --exclude, one or more a line, # comments)'
            cand -p 'Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP (default: the ports after the targets)'
            cand --ports 'Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP (default: the ports after the targets)'
            cand -s 'Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT'
            cand --source 'Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT'
            cand -w 'Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips, between 200 ms and 2 s'
            cand --timeout 'Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips, between 200 ms and 2 s'
            cand -c 'Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C'
            cand --count 'Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C'
            cand -i 'Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there is room for it)'
            cand --interval 'Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there is room for it)'
            cand --parallel 'Probes in flight at most (default: as many as the open-file limit allows, up to 4096)'
            cand --send 'Send DATA after connecting (escapes \r \n \t \0 \\ \xHH) and show the first bytes received'
            cand --send-hex 'Like --send with the data in hex (0d0a)'
            cand --banner-wait 'After connecting, wait this long for a server that speaks first (SSH, SMTP, FTP, POP3, IMAP, MySQL) and show its greeting; 0 does not wait (with --count, only the first repeat waits)'
            cand --retry-budget 'Time to re-probe, paced, the silent ports of a host that rate-limits its ICMP errors (0: never); what stays silent is then unknown, not filtered'
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --list-targets 'Print the addresses the targets expand to, one a line, and probe nothing'
            cand --allow-large 'Allow a block of more than 65,536 addresses (an IPv6 /112 or larger)'
            cand --tcp 'Probe TCP ports (the default; with --udp, both)'
            cand --udp 'Probe UDP ports (DNS on 53 and NTP on 123 get a real request)'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --all-ports 'List every port in the table; by default more than 25 closed (or silent) ports of a host are counted'
            cand --udp-open-filtered-ok 'Count UDP open|filtered (no reply) as open for the exit code'
            cand --fail-on-loss 'With --count, any lost repeat (no answer) makes the exit code 1, even if the port answered last'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;listen'= {
            cand -b 'Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0 where the host has no IPv6]'
            cand --bind 'Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0 where the host has no IPv6]'
            cand --mode 'What to do with what clients send'
            cand --reply 'Text to send in reply mode (implies --mode reply; with --mode http, the body of every answer) [default: none]'
            cand --reply-file 'File whose content is sent in reply mode (implies --mode reply) [default: none]'
            cand --clients 'Stop after N TCP clients are done [default: run until Ctrl-C or --deadline]'
            cand --deadline 'End the whole run after this long, with the summary of what came so far (bare seconds, or 500ms, 5m) [default: none, run until Ctrl-C]'
            cand --max-conns 'Most TCP clients served at once; further connections are refused with a reset [default: 16384, or fewer if the open-files limit is lower]'
            cand --max-conns-per-address 'Most TCP clients from one source at once (an IPv4 address, an IPv6 /64), so that one client cannot take every slot; further connections from it are refused with a reset, and logged once per 10 s [default: an eighth of --max-conns, at least 16]'
            cand --idle-timeout 'Close a TCP connection, or forget a UDP peer, after this long without progress (0: never)'
            cand --max-buffer 'Most bytes held for one TCP connection: echo stops reading while this much waits for a peer that does not read (1KiB to 64MiB)'
            cand --cert 'PEM certificate chain to speak TLS with (implies --tls; needs --key) [default: one made at start]'
            cand --key 'PEM private key of --cert (PKCS#8, PKCS#1 or SEC1)'
            cand --show-max 'Most bytes shown per client by --show/--hex; the rest is counted, not shown (0: no limit)'
            cand --save 'Save every byte each client sends in DIR (made if missing; must be empty): one file per TCP connection or UDP peer, named by session, and manifest.ndjson with a line per session [default: nothing saved]'
            cand --max-udp-peers 'Most UDP peers tracked at once; the one idle the longest is forgotten first'
            cand --udp-rate 'Most UDP answers per second to one peer (bursts up to the same number)'
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --tcp 'TCP only [default: TCP and UDP]'
            cand --udp 'UDP only [default: TCP and UDP]'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --once 'Stop after the first TCP client is done [default: run until Ctrl-C or --deadline]'
            cand --interactive 'Talk to one TCP client at a time, as nc -l: lines typed on stdin go to it, what it sends goes to stdout (escaped when stdout is a terminal), Ctrl-D half-closes; other clients are refused meanwhile [implies --once unless --clients is given]'
            cand --tls 'Speak TLS (1.2, 1.3) on every connection, before the mode: with a self-signed certificate for localhost, 127.0.0.1 and ::1 made at start (its SHA-256 and its public key''s are printed, for openssl''s fingerprint and curl --pinnedpubkey), or with --cert/--key; each handshake is logged with the client''s SNI, ALPN offer and TLS versions, a failed one with why [implies --tcp]'
            cand --show 'Print what each client sends as it arrives, prefixed by the peer: text with control and non-ASCII bytes escaped (so a client cannot drive the terminal); in NDJSON a `data` event with the bytes in base64'
            cand --hex 'Like --show, as an xxd-style hex dump'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;sockets'= {
            cand -c 'Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)'
            cand --count 'Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)'
            cand -i 'Time between samples with -c (e.g. 500ms, 2s)'
            cand --interval 'Time between samples with -c (e.g. 500ms, 2s)'
            cand --format 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --json 'Print results as one JSON document (errors too), for scripts: short for --format json'
            cand --quiet 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;help'= {
            cand resolve 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
            cand trace 'Find where on the path packets stop: an ICMP traceroute probing every hop at once'
            cand probe 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why'
            cand listen 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent'
            cand sockets 'This host''s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;help;resolve'= {
        }
        &'sockdiag;help;trace'= {
        }
        &'sockdiag;help;probe'= {
        }
        &'sockdiag;help;listen'= {
        }
        &'sockdiag;help;sockets'= {
        }
        &'sockdiag;help;help'= {
        }
    ]
    $completions[$command]
}
