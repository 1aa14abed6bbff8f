
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
            cand resolve 'Look names up through the system resolver (getaddrinfo) as a program on this host would'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;resolve'= {
            cand --service 'Service: a port number or a name from the services database (http, ssh, ...)'
            cand --socktype 'Socket type hint'
            cand --protocol 'Protocol hint'
            cand --parallel 'How many names to look up at once'
            cand --color 'When to colour tables; NO_COLOR in the environment means never, unless `always`'
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
            cand resolve 'Look names up through the system resolver (getaddrinfo) as a program on this host would'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockdiag;help;resolve'= {
        }
        &'sockdiag;help;help'= {
        }
    ]
    $completions[$command]
}
