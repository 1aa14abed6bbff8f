# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sockdiag_global_optspecs
    string join \n format= json color= quiet v/verbose h/help V/version
end

function __fish_sockdiag_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sockdiag_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sockdiag_using_subcommand
    set -l cmd (__fish_sockdiag_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sockdiag -n "__fish_sockdiag_needs_command" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_needs_command" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_needs_command" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "resolve" -d 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "trace" -d 'Find where on the path packets stop: an ICMP traceroute probing every hop at once'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "probe" -d 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "listen" -d 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "sockets" -d 'This host\'s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection'
complete -c sockdiag -n "__fish_sockdiag_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s t -l type -d 'Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when @SERVER or --server asks DNS]' -r -f -a "A\t''
AAAA\t''
CNAME\t''
MX\t''
TXT\t''
NS\t''
SOA\t''
SRV\t''
PTR\t''
CAA\t''
HTTPS\t''
SVCB\t''
DS\t''
DNSKEY\t''
RRSIG\t''
NAPTR\t''
TLSA\t''
SSHFP\t''
ANY\t''
TYPE65280\t''
common\t''"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s x -l reverse -d 'Reverse lookup through DNS: a PTR query for this address (repeatable)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l server -d 'The DNS server to ask: IP, IP:PORT, [V6]:PORT, a host name, tls://ADDR[:PORT][#NAME] (DNS over TLS) or https://HOST[:PORT][/PATH][#NAME] (DNS over HTTPS) [default: the nameservers of /etc/resolv.conf]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ca -d 'Check the certificate of a tls:// or https:// server against the CAs of this PEM file instead of the system\'s (a private or test CA)' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s w -l timeout -d 'How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l attempts -d 'How many times to ask each server before giving up (a server that refused the connection is not asked again) [default: 2]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s f -l file -d 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l trust-anchor -d 'The trust anchor for --validate: DNSKEY records in zone-file form (`zone. IN DNSKEY 257 3 13 ...`) [default: the root\'s key built in]' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l root-hints -d 'Where --trace starts: zone-file lines `. NS a.root.` and `a.root. A ADDR` (named.root form) [default: the IANA root servers]' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l service -d 'Service: a port number or a name from the services database (http, ssh, ...) [default: none, port 0]' -r -f -a "domain\t''
ftp\t''
http\t''
https\t''
imap\t''
imaps\t''
kerberos\t''
ldap\t''
ldaps\t''
mysql\t''
ntp\t''
pop3\t''
pop3s\t''
postgresql\t''
rsync\t''
sip\t''
smtp\t''
snmp\t''
ssh\t''
submission\t''"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l socket-type -d 'Socket type hint (ai_socktype)' -r -f -a "stream\t'SOCK_STREAM'
dgram\t'SOCK_DGRAM'
raw\t'SOCK_RAW'
any\t'No restriction: every socket type, like `getent ahosts`'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l protocol -d 'Protocol hint (ai_protocol)' -r -f -a "tcp\t'IPPROTO_TCP'
udp\t'IPPROTO_UDP'
any\t'No restriction (ai_protocol 0)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l parallel -d 'How many names to look up at once' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l tcp -d 'Ask DNS over TCP only [default: UDP, and TCP when the UDP answer is truncated]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l dnssec -d 'DNSSEC: ask DNS directly with the DO bit set, so servers send the signatures (RRSIG rows, with their fields), and show the AD bit of the answer (SERVER column: AD)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l validate -d 'DNSSEC: validate each answer locally from a trust anchor (hickory\'s validator) and say secure, insecure (an unsigned zone) or bogus with the reason (expired signature, missing DS, key mismatch); sets the DO bit as --dnssec does. A bogus answer exits 1'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l trace -d 'Walk the delegations from the root like dig +trace, asking every name server of each zone, and mark lame servers, timeouts, NS sets that differ between parent and child, and glue that disagrees'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l short -d 'Print only the answer data, one a line, like dig +short (DNS: every record\'s data; system: each address once); exit codes as without it'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l servers-compare -d 'Ask every server (@A @B ..., or resolv.conf\'s) at once and set their answers side by side, one column each, with the differences named (other data, TTLs, NXDOMAIN at one only, no answer); without it several servers are tried in turn'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l compare -d 'Set each name\'s getaddrinfo addresses beside DNS\'s A/AAAA answers and explain the differences'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s 4 -d 'IPv4 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s 6 -d 'IPv6 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l no-ai-canonname -d 'Do not set AI_CANONNAME (set by default: the canonical name is asked for)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ai-passive -d 'AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ai-addrconfig -d 'AI_ADDRCONFIG: only families this host has a configured address for'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ai-v4mapped -d 'AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ai-all -d 'AI_ALL: with --ai-v4mapped, IPv6 and mapped IPv4 addresses together'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l ai-numerichost -d 'AI_NUMERICHOST: NAME must be an IP address; never query a resolver'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand resolve" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l first-ttl -d 'TTL of the first hop probed' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s m -l max-hops -d 'Highest TTL probed' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s q -l queries -d 'Probes per hop' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s N -l max-inflight -d 'At most this many probes awaiting an answer at once [default: unlimited]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s w -l timeout -d 'Longest wait for one probe\'s reply (less when farther hops answer fast); bare number = seconds' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l deadline -d 'The whole trace ends after this long, counted from the first probe (a silent target ends here) [default: 1.5s, plus the time the waves take to go out with -i or --max-rate]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s i -l interval -d 'Time between two probes to the same hop (the waves\' spacing; with -c, between the cycles\' starts); routers limit how fast they answer' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s c -l count -d 'Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline); cycles start -i apart' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l max-rate -d 'At most this many probes per second overall [default: no limit]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s p -l port -d 'Destination port of --udp or --tcp probes' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l flow -d 'Which flow the probes take through per-flow load balancers: the ICMP checksum, or the UDP or TCP source port (1024-65535; TCP needs raw sockets) [default: one fixed checksum; a source port the system picks]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l multipath -d 'Find every branch of the load balancers on the path with this confidence (95 or 99, %): Paris traceroute\'s MDA, every hop probed at once with many flows (--icmp, --udp, or --tcp with raw sockets; one host); --multipath=99 for 99 %' -r -f -a "95\t''
99\t''"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l max-probes -d 'With --multipath: at most this many probes in all (the report says when this, not the stopping rule, ended the search) [default: 5000]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s 4 -d 'IPv4 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s 6 -d 'IPv6 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s n -l numeric -d 'Do not look up names of the hops\' addresses (no NAME column)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l icmp -d 'Probe with ICMP echo requests (the default)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l udp -d 'Probe with UDP datagrams to a port (default 33434; -p to choose)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l tcp -d 'Probe with TCP SYNs to a port (default 80; -p to choose): says open, closed or filtered at the target'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l mtu -d 'Find the path MTU as tracepath does: probes as large as the outgoing interface takes, with DF set; a router that must refuse them names its next link\'s MTU, shown at its hop (`pmtu 1500 -> 1400`) (--icmp or --udp, one cycle)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l per-node -d 'With --multipath: count each interface\'s next hops apart (MDA\'s node control: more probes, and the confidence also holds where a diamond\'s branches are uneven) instead of each hop\'s interfaces (MDA-Lite, the default)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand trace" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s f -l file -d 'Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l exclude -d 'Leave these addresses out: addresses, CIDR blocks and ranges, comma-separated' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l exclude-file -d 'Leave out the addresses listed in FILE (as --exclude, one or more a line, # comments)' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s p -l ports -d 'Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP (default: the ports after the targets)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s s -l source -d 'Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s w -l timeout -d 'Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips, between 200 ms and 2 s' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s c -l count -d 'Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s i -l interval -d 'Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there is room for it)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l parallel -d 'Probes in flight at most (default: as many as the open-file limit allows, up to 4096)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l send -d 'Send DATA after connecting (escapes \\r \\n \\t \\0 \\\\ \\xHH) and show the first bytes received' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l send-hex -d 'Like --send with the data in hex (0d0a)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l banner-wait -d 'After connecting, wait this long for a server that speaks first (SSH, SMTP, FTP, POP3, IMAP, MySQL) and show its greeting; 0 does not wait (with --count, only the first repeat waits)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l retry-budget -d 'Time to re-probe, paced, the silent ports of a host that rate-limits its ICMP errors (0: never); what stays silent is then unknown, not filtered' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l sni -d 'The name to send as SNI and check the certificate against (default: the target\'s name)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l alpn -d 'ALPN protocols to offer, comma-separated (h2,http/1.1); default none, http/1.1 with --http' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l ca -d 'Trust only the certificates of this PEM file (a private CA) instead of the system\'s roots' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l warn-days -d 'Warn when a certificate of the chain expires within this many days' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l starttls -d 'Upgrade to TLS after the protocol\'s own plain-text greeting (implies --tls)' -r -f -a "smtp\t'SMTP: greeting, EHLO, STARTTLS (RFC 3207)'
imap\t'IMAP: greeting, STARTTLS (RFC 3501)'
pop3\t'POP3: greeting, STLS (RFC 2595)'
ftp\t'FTP: greeting, AUTH TLS (RFC 4217)'
postgres\t'PostgreSQL: SSLRequest, answered \'S\''"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l http-path -d 'The path --http asks for' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l http-method -d 'The method --http uses' -r -f -a "HEAD\t'The head only: status, headers, no body (the default)'
GET\t'The whole answer (read up to 1 MiB)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l list-targets -d 'Print the addresses the targets expand to, one a line, and probe nothing'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l allow-large -d 'Allow a block of more than 65,536 addresses (an IPv6 /112 or larger)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l tcp -d 'Probe TCP ports (the default; with --udp, both)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l udp -d 'Probe UDP ports (DNS on 53 and NTP on 123 get a real request)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s 4 -d 'IPv4 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s 6 -d 'IPv6 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l all-ports -d 'List every port in the table; by default more than 25 closed (or silent) ports of a host are counted'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l udp-open-filtered-ok -d 'Count UDP open|filtered (no reply) as open for the exit code'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l fail-on-loss -d 'With --count, any lost repeat (no answer) makes the exit code 1, even if the port answered last'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l tls -d 'After connecting, make a TLS handshake: phases timed, protocol, cipher, ALPN, the certificate chain and its verification; a TLS failure is named and exits 1'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l insecure -d 'Finish the handshake (and time it) whatever the certificate; its problem is still reported'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l http -d 'Make an HTTP/1.1 request (over TLS with --tls, else plain TCP): status, Server, Location, time to first byte'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand probe" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s b -l bind -d 'Local address to listen on (repeatable) [default: every address: one dual-stack socket, or 0.0.0.0 where the host has no IPv6]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l mode -d 'What to do with what clients send' -r -f -a "echo\t'Send back everything received (TCP: after a half-close, the rest is still echoed before closing)'
discard\t'Read and drop everything, send nothing (RFC 863)'
reply\t'Send a fixed text (--reply or --reply-file): over TCP on connect, then close the sending side; over UDP to each datagram, cut to its size'
chargen\t'Send the RFC 864 character pattern: TCP without end, UDP one answer per datagram'
sink\t'Read and drop everything, counting bytes and reporting each client\'s throughput'
chat\t'TCP chat room: each line a client sends goes to every other client, prefixed with the sender; joins and leaves are announced; a client that does not read is dropped once --max-buffer waits for it (UDP peers are counted, not answered)'
http\t'HTTP/1.1: every request gets 200 with a text echoing method, path, headers and peer (or the --reply text), keep-alive as the client asks; each request line is logged (UDP peers are counted, not answered)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l reply -d 'Text to send in reply mode (implies --mode reply; with --mode http, the body of every answer) [default: none]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l reply-file -d 'File whose content is sent in reply mode (implies --mode reply) [default: none]' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l clients -d 'Stop after N TCP clients are done [default: run until Ctrl-C or --deadline]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l deadline -d 'End the whole run after this long, with the summary of what came so far (bare seconds, or 500ms, 5m) [default: none, run until Ctrl-C]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l max-conns -d 'Most TCP clients served at once; further connections are refused with a reset [default: 16384, or fewer if the open-files limit is lower]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l max-conns-per-address -d 'Most TCP clients from one source at once (an IPv4 address, an IPv6 /64), so that one client cannot take every slot; further connections from it are refused with a reset, and logged once per 10 s [default: an eighth of --max-conns, at least 16]' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l idle-timeout -d 'Close a TCP connection, or forget a UDP peer, after this long without progress (0: never)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l max-buffer -d 'Most bytes held for one TCP connection: echo stops reading while this much waits for a peer that does not read (1KiB to 64MiB)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l cert -d 'PEM certificate chain to speak TLS with (implies --tls; needs --key) [default: one made at start]' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l key -d 'PEM private key of --cert (PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l show-max -d 'Most bytes shown per client by --show/--hex; the rest is counted, not shown (0: no limit)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l save -d 'Save every byte each client sends in DIR (made if missing; must be empty): one file per TCP connection or UDP peer, named by session, and manifest.ndjson with a line per session [default: nothing saved]' -r -f -a "(__fish_complete_directories)"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l max-udp-peers -d 'Most UDP peers tracked at once; the one idle the longest is forgotten first' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l udp-rate -d 'Most UDP answers per second to one peer (bursts up to the same number)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l tcp -d 'TCP only [default: TCP and UDP]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l udp -d 'UDP only [default: TCP and UDP]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s 4 -d 'IPv4 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s 6 -d 'IPv6 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l once -d 'Stop after the first TCP client is done [default: run until Ctrl-C or --deadline]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l interactive -d 'Talk to one TCP client at a time, as nc -l: lines typed on stdin go to it, what it sends goes to stdout (escaped when stdout is a terminal), Ctrl-D half-closes; other clients are refused meanwhile [implies --once unless --clients is given]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l tls -d 'Speak TLS (1.2, 1.3) on every connection, before the mode: with a self-signed certificate for localhost, 127.0.0.1 and ::1 made at start (its SHA-256 and its public key\'s are printed, for openssl\'s fingerprint and curl --pinnedpubkey), or with --cert/--key; each handshake is logged with the client\'s SNI, ALPN offer and TLS versions, a failed one with why [implies --tcp]'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l show -d 'Print what each client sends as it arrives, prefixed by the peer: text with control and non-ASCII bytes escaped (so a client cannot drive the terminal); in NDJSON a `data` event with the bytes in base64'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l hex -d 'Like --show, as an xxd-style hex dump'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand listen" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s c -l count -d 'Take this many samples, -i apart, and say what changed (retransmissions, queues, RTT)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s i -l interval -d 'Time between samples with -c (e.g. 500ms, 2s)' -r -f
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -l format -d 'Output form: table (a terminal\'s default), plain (a pipe\'s default), json, ndjson or csv' -r -f -a "table\t'Bordered table sized to the terminal'
plain\t'The same columns, no borders, no colour (what a pipe gets)'
json\t'One JSON document'
ndjson\t'One JSON object a line, the summary last (streaming commands)'
csv\t'The records as comma-separated values with a header line'
dot\t'A graph for Graphviz (trace --multipath only)'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -l color -d 'When to colour tables; NO_COLOR in the environment means never, unless `always`' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour tables'
never\t'Never colour'"
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s 4 -d 'IPv4 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s 6 -d 'IPv6 only'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -l json -d 'Print results as one JSON document (errors too), for scripts: short for --format json'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -l quiet -d 'Fewer lines on stderr (no progress, no per-event log); results are still printed'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s v -l verbose -d 'Show more detail in error messages (repeat for more)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand sockets" -s V -l version -d 'Print version'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "resolve" -d 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "trace" -d 'Find where on the path packets stop: an ICMP traceroute probing every hop at once'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "probe" -d 'Probe TCP and UDP ports: open, closed, filtered or unreachable, and why'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "listen" -d 'Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "sockets" -d 'This host\'s own sockets: state, queues, owner, TCP health, and what a state means for a failing connection'
complete -c sockdiag -n "__fish_sockdiag_using_subcommand help; and not __fish_seen_subcommand_from resolve trace probe listen sockets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
