
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
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --json 'Print results as one JSON document (errors too), for scripts'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand resolve 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;resolve'= {
            cand -t 'Ask DNS directly for these record types: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA)'
            cand --type 'Ask DNS directly for these record types: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, or `common` (A, AAAA, MX, NS, SOA, TXT, CAA)'
            cand -x 'Reverse lookup through DNS: a PTR query for this address (repeatable)'
            cand --reverse 'Reverse lookup through DNS: a PTR query for this address (repeatable)'
            cand --server 'The DNS server to ask: IP, IP:PORT, [V6]:PORT or a host name (default: the system''s, from resolv.conf)'
            cand -w 'How long to wait for each DNS answer, with a unit (500ms, 2s)'
            cand --timeout 'How long to wait for each DNS answer, with a unit (500ms, 2s)'
            cand --attempts 'How many times to ask each server before giving up (a server that refused the connection is not asked again)'
            cand -f 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)'
            cand --file 'Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)'
            cand --service 'Service: a port number or a name from the services database (http, ssh, ...)'
            cand --socktype 'Socket type hint'
            cand --protocol 'Protocol hint'
            cand --parallel 'How many names to look up at once'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
            cand --tcp 'Ask DNS over TCP only (by default UDP, and TCP when the UDP answer is truncated)'
            cand --compare 'Set each name''s getaddrinfo addresses beside DNS''s A/AAAA answers and explain the differences'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --no-canonname 'Do not ask for the canonical name (AI_CANONNAME is set by default)'
            cand --passive 'AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address'
            cand --addrconfig 'AI_ADDRCONFIG: only families this host has a configured address for'
            cand --v4mapped 'AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists'
            cand --all 'AI_ALL: with --v4mapped, IPv6 and mapped IPv4 addresses together'
            cand --numeric-host 'AI_NUMERICHOST: NAME must be an IP address; never query a resolver'
            cand --json 'Print results as one JSON document (errors too), for scripts'
            cand -v 'Show more detail in error messages (repeat for more)'
            cand --verbose 'Show more detail in error messages (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockdiag;help'= {
            cand resolve 'Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;help;resolve'= {
        }
        &'sockdiag;help;help'= {
        }
    ]
    $completions[$command]
}
