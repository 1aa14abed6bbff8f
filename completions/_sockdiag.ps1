
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sockdiag' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sockdiag'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sockdiag' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Find where on the path packets stop: an ICMP traceroute probing every hop at once')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent')
            [CompletionResult]::new('sockets', 'sockets', [CompletionResultType]::ParameterValue, 'This host''s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockdiag;resolve' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when @SERVER or --server asks DNS]')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when @SERVER or --server asks DNS]')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Reverse lookup through DNS: a PTR query for this address (repeatable)')
            [CompletionResult]::new('--reverse', '--reverse', [CompletionResultType]::ParameterName, 'Reverse lookup through DNS: a PTR query for this address (repeatable)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The DNS server to ask: IP, IP:PORT, [V6]:PORT, a host name, tls://ADDR[:PORT][#NAME] (DNS over TLS) or https://HOST[:PORT][/PATH][#NAME] (DNS over HTTPS) [default: the nameservers of /etc/resolv.conf]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Check the certificate of a tls:// or https:// server against the CAs of this PEM file instead of the system''s (a private or test CA)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]')
            [CompletionResult]::new('--attempts', '--attempts', [CompletionResultType]::ParameterName, 'How many times to ask each server before giving up (a server that refused the connection is not asked again) [default: 2]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)')
            [CompletionResult]::new('--trust-anchor', '--trust-anchor', [CompletionResultType]::ParameterName, 'The trust anchor for --validate: DNSKEY records in zone-file form (`zone. IN DNSKEY 257 3 13 ...`) [default: the root''s key built in]')
            [CompletionResult]::new('--root-hints', '--root-hints', [CompletionResultType]::ParameterName, 'Where --trace starts: zone-file lines `. NS a.root.` and `a.root. A ADDR` (named.root form) [default: the IANA root servers]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Service: a port number or a name from the services database (http, ssh, ...) [default: none, port 0]')
            [CompletionResult]::new('--socket-type', '--socket-type', [CompletionResultType]::ParameterName, 'Socket type hint (ai_socktype)')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol hint (ai_protocol)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many names to look up at once')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Ask DNS over TCP only [default: UDP, and TCP when the UDP answer is truncated]')
            [CompletionResult]::new('--dnssec', '--dnssec', [CompletionResultType]::ParameterName, 'DNSSEC: ask DNS directly with the DO bit set, so servers send the signatures (RRSIG rows, with their fields), and show the AD bit of the answer (SERVER column: AD)')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'DNSSEC: validate each answer locally from a trust anchor (hickory''s validator) and say secure, insecure (an unsigned zone) or bogus with the reason (expired signature, missing DS, key mismatch); sets the DO bit as --dnssec does. A bogus answer exits 1')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Walk the delegations from the root like dig +trace, asking every name server of each zone, and mark lame servers, timeouts, NS sets that differ between parent and child, and glue that disagrees')
            [CompletionResult]::new('--short', '--short', [CompletionResultType]::ParameterName, 'Print only the answer data, one a line, like dig +short (DNS: every record''s data; system: each address once); exit codes as without it')
            [CompletionResult]::new('--servers-compare', '--servers-compare', [CompletionResultType]::ParameterName, 'Ask every server (@A @B ..., or resolv.conf''s) at once and set their answers side by side, one column each, with the differences named (other data, TTLs, NXDOMAIN at one only, no answer); without it several servers are tried in turn')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Set each name''s getaddrinfo addresses beside DNS''s A/AAAA answers and explain the differences')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('--no-ai-canonname', '--no-ai-canonname', [CompletionResultType]::ParameterName, 'Do not set AI_CANONNAME (set by default: the canonical name is asked for)')
            [CompletionResult]::new('--ai-passive', '--ai-passive', [CompletionResultType]::ParameterName, 'AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address')
            [CompletionResult]::new('--ai-addrconfig', '--ai-addrconfig', [CompletionResultType]::ParameterName, 'AI_ADDRCONFIG: only families this host has a configured address for')
            [CompletionResult]::new('--ai-v4mapped', '--ai-v4mapped', [CompletionResultType]::ParameterName, 'AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists')
            [CompletionResult]::new('--ai-all', '--ai-all', [CompletionResultType]::ParameterName, 'AI_ALL: with --ai-v4mapped, IPv6 and mapped IPv4 addresses together')
            [CompletionResult]::new('--ai-numerichost', '--ai-numerichost', [CompletionResultType]::ParameterName, 'AI_NUMERICHOST: NAME must be an IP address; never query a resolver')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockdiag;trace' {
            [CompletionResult]::new('--first-ttl', '--first-ttl', [CompletionResultType]::ParameterName, 'TTL of the first hop probed')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Highest TTL probed')
            [CompletionResult]::new('--max-hops', '--max-hops', [CompletionResultType]::ParameterName, 'Highest TTL probed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Probes per hop')
            [CompletionResult]::new('--queries', '--queries', [CompletionResultType]::ParameterName, 'Probes per hop')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'At most this many probes awaiting an answer at once [default: unlimited]')
            [CompletionResult]::new('--max-inflight', '--max-inflight', [CompletionResultType]::ParameterName, 'At most this many probes awaiting an answer at once [default: unlimited]')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Longest wait for one probe''s reply (less when farther hops answer fast); bare number = seconds')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Longest wait for one probe''s reply (less when farther hops answer fast); bare number = seconds')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'The whole trace ends after this long, counted from the first probe (a silent target ends here) [default: 1.5s, plus the time the waves take to go out with -i or --max-rate]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Time between two probes to the same hop (the waves'' spacing; with -c, between the cycles'' starts); routers limit how fast they answer')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between two probes to the same hop (the waves'' spacing; with -c, between the cycles'' starts); routers limit how fast they answer')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline); cycles start -i apart')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline); cycles start -i apart')
            [CompletionResult]::new('--max-rate', '--max-rate', [CompletionResultType]::ParameterName, 'At most this many probes per second overall [default: no limit]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Destination port of --udp or --tcp probes')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Destination port of --udp or --tcp probes')
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'Which flow the probes take through per-flow load balancers: the ICMP checksum, or the UDP or TCP source port (1024-65535; TCP needs raw sockets) [default: one fixed checksum; a source port the system picks]')
            [CompletionResult]::new('--multipath', '--multipath', [CompletionResultType]::ParameterName, 'Find every branch of the load balancers on the path with this confidence (95 or 99, %): Paris traceroute''s MDA, every hop probed at once with many flows (--icmp, --udp, or --tcp with raw sockets; one host); --multipath=99 for 99 %')
            [CompletionResult]::new('--max-probes', '--max-probes', [CompletionResultType]::ParameterName, 'With --multipath: at most this many probes in all (the report says when this, not the stopping rule, ended the search) [default: 5000]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Do not look up names of the hops'' addresses (no NAME column)')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Do not look up names of the hops'' addresses (no NAME column)')
            [CompletionResult]::new('--icmp', '--icmp', [CompletionResultType]::ParameterName, 'Probe with ICMP echo requests (the default)')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'Probe with UDP datagrams to a port (default 33434; -p to choose)')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Probe with TCP SYNs to a port (default 80; -p to choose): says open, closed or filtered at the target')
            [CompletionResult]::new('--mtu', '--mtu', [CompletionResultType]::ParameterName, 'Find the path MTU as tracepath does: probes as large as the outgoing interface takes, with DF set; a router that must refuse them names its next link''s MTU, shown at its hop (`pmtu 1500 -> 1400`) (--icmp or --udp, one cycle)')
            [CompletionResult]::new('--per-node', '--per-node', [CompletionResultType]::ParameterName, 'With --multipath: count each interface''s next hops apart (MDA''s node control: more probes, and the confidence also holds where a diamond''s branches are uneven) instead of each hop''s interfaces (MDA-Lite, the default)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockdiag;probe' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave these addresses out: addresses, CIDR blocks and ranges, comma-separated')
            [CompletionResult]::new('--exclude-file', '--exclude-file', [CompletionResultType]::ParameterName, 'Leave out the addresses listed in FILE (as --exclude, one or more a line, # comments)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP (default: the ports after the targets)')
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP (default: the ports after the targets)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips, between 200 ms and 2 s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips, between 200 ms and 2 s')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there is room for it)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there is room for it)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Probes in flight at most (default: as many as the open-file limit allows, up to 4096)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send DATA after connecting (escapes \r \n \t \0 \\ \xHH) and show the first bytes received')
            [CompletionResult]::new('--send-hex', '--send-hex', [CompletionResultType]::ParameterName, 'Like --send with the data in hex (0d0a)')
            [CompletionResult]::new('--banner-wait', '--banner-wait', [CompletionResultType]::ParameterName, 'After connecting, wait this long for a server that speaks first (SSH, SMTP, FTP, POP3, IMAP, MySQL) and show its greeting; 0 does not wait (with --count, only the first repeat waits)')
            [CompletionResult]::new('--retry-budget', '--retry-budget', [CompletionResultType]::ParameterName, 'Time to re-probe, paced, the silent ports of a host that rate-limits its ICMP errors (0: never); what stays silent is then unknown, not filtered')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'The name to send as SNI and check the certificate against (default: the target''s name)')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to offer, comma-separated (h2,http/1.1); default none, http/1.1 with --http')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust only the certificates of this PEM file (a private CA) instead of the system''s roots')
            [CompletionResult]::new('--warn-days', '--warn-days', [CompletionResultType]::ParameterName, 'Warn when a certificate of the chain expires within this many days')
            [CompletionResult]::new('--starttls', '--starttls', [CompletionResultType]::ParameterName, 'Upgrade to TLS after the protocol''s own plain-text greeting (implies --tls)')
            [CompletionResult]::new('--http-path', '--http-path', [CompletionResultType]::ParameterName, 'The path --http asks for')
            [CompletionResult]::new('--http-method', '--http-method', [CompletionResultType]::ParameterName, 'The method --http uses')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('--list-targets', '--list-targets', [CompletionResultType]::ParameterName, 'Print the addresses the targets expand to, one a line, and probe nothing')
            [CompletionResult]::new('--allow-large', '--allow-large', [CompletionResultType]::ParameterName, 'Allow a block of more than 65,536 addresses (an IPv6 /112 or larger)')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Probe TCP ports (the default; with --udp, both)')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'Probe UDP ports (DNS on 53 and NTP on 123 get a real request)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('--all-ports', '--all-ports', [CompletionResultType]::ParameterName, 'List every port in the table; by default more than 25 closed (or silent) ports of a host are counted')
            [CompletionResult]::new('--udp-open-filtered-ok', '--udp-open-filtered-ok', [CompletionResultType]::ParameterName, 'Count UDP open|filtered (no reply) as open for the exit code')
            [CompletionResult]::new('--fail-on-loss', '--fail-on-loss', [CompletionResultType]::ParameterName, 'With --count, any lost repeat (no answer) makes the exit code 1, even if the port answered last')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'After connecting, make a TLS handshake: phases timed, protocol, cipher, ALPN, the certificate chain and its verification; a TLS failure is named and exits 1')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Finish the handshake (and time it) whatever the certificate; its problem is still reported')
            [CompletionResult]::new('--http', '--http', [CompletionResultType]::ParameterName, 'Make an HTTP/1.1 request (over TLS with --tls, else plain TCP): status, Server, Location, time to first byte')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockdiag;listen' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0 where the host has no IPv6]')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0 where the host has no IPv6]')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'What to do with what clients send')
            [CompletionResult]::new('--reply', '--reply', [CompletionResultType]::ParameterName, 'Text to send in reply mode (implies --mode reply; with --mode http, the body of every answer) [default: none]')
            [CompletionResult]::new('--reply-file', '--reply-file', [CompletionResultType]::ParameterName, 'File whose content is sent in reply mode (implies --mode reply) [default: none]')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Stop after N TCP clients are done [default: run until Ctrl-C or --deadline]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'End the whole run after this long, with the summary of what came so far (bare seconds, or 500ms, 5m) [default: none, run until Ctrl-C]')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most TCP clients served at once; further connections are refused with a reset [default: 16384, or fewer if the open-files limit is lower]')
            [CompletionResult]::new('--max-conns-per-address', '--max-conns-per-address', [CompletionResultType]::ParameterName, 'Most TCP clients from one source at once (an IPv4 address, an IPv6 /64), so that one client cannot take every slot; further connections from it are refused with a reset, and logged once per 10 s [default: an eighth of --max-conns, at least 16]')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a TCP connection, or forget a UDP peer, after this long without progress (0: never)')
            [CompletionResult]::new('--max-buffer', '--max-buffer', [CompletionResultType]::ParameterName, 'Most bytes held for one TCP connection: echo stops reading while this much waits for a peer that does not read (1KiB to 64MiB)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'PEM certificate chain to speak TLS with (implies --tls; needs --key) [default: one made at start]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'PEM private key of --cert (PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--show-max', '--show-max', [CompletionResultType]::ParameterName, 'Most bytes shown per client by --show/--hex; the rest is counted, not shown (0: no limit)')
            [CompletionResult]::new('--save', '--save', [CompletionResultType]::ParameterName, 'Save every byte each client sends in DIR (made if missing; must be empty): one file per TCP connection or UDP peer, named by session, and manifest.ndjson with a line per session [default: nothing saved]')
            [CompletionResult]::new('--max-udp-peers', '--max-udp-peers', [CompletionResultType]::ParameterName, 'Most UDP peers tracked at once; the one idle the longest is forgotten first')
            [CompletionResult]::new('--udp-rate', '--udp-rate', [CompletionResultType]::ParameterName, 'Most UDP answers per second to one peer (bursts up to the same number)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP only [default: TCP and UDP]')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP only [default: TCP and UDP]')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Stop after the first TCP client is done [default: run until Ctrl-C or --deadline]')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Talk to one TCP client at a time, as nc -l: lines typed on stdin go to it, what it sends goes to stdout (escaped when stdout is a terminal), Ctrl-D half-closes; other clients are refused meanwhile [implies --once unless --clients is given]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS (1.2, 1.3) on every connection, before the mode: with a self-signed certificate for localhost, 127.0.0.1 and ::1 made at start (its SHA-256 and its public key''s are printed, for openssl''s fingerprint and curl --pinnedpubkey), or with --cert/--key; each handshake is logged with the client''s SNI, ALPN offer and TLS versions, a failed one with why [implies --tcp]')
            [CompletionResult]::new('--show', '--show', [CompletionResultType]::ParameterName, 'Print what each client sends as it arrives, prefixed by the peer: text with control and non-ASCII bytes escaped (so a client cannot drive the terminal); in NDJSON a `data` event with the bytes in base64')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Like --show, as an xxd-style hex dump')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockdiag;sockets' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Time between samples with -c (e.g. 500ms, 2s)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between samples with -c (e.g. 500ms, 2s)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output form: table (a terminal''s default), plain (a pipe''s default), json, ndjson or csv')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour tables; NO_COLOR in the environment means never, unless `always`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as one JSON document (errors too), for scripts: short for --format json')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Fewer lines on stderr (no progress, no per-event log); results are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show more detail in error messages (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockdiag;help' {
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Find where on the path packets stop: an ICMP traceroute probing every hop at once')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent')
            [CompletionResult]::new('sockets', 'sockets', [CompletionResultType]::ParameterValue, 'This host''s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockdiag;help;resolve' {
            break
        }
        'sockdiag;help;trace' {
            break
        }
        'sockdiag;help;probe' {
            break
        }
        'sockdiag;help;listen' {
            break
        }
        'sockdiag;help;sockets' {
            break
        }
        'sockdiag;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
