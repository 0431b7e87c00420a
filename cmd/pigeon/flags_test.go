package main

import (
	"slices"
	"testing"
)

// TestICEServer: --stun and --turn URLs become pion's ICE servers, with
// TURN credentials from the URL or else from --turn-user and --turn-pass
// (or their environment variables; usage.txt covers those).
// (network_test.go connects through such servers.)
func TestICEServer(t *testing.T) {
	cases := []struct {
		flag, raw       string
		url, user, cred string
	}{
		{"stun", "stun:203.0.113.1:3478", "stun:203.0.113.1:3478", "", ""},
		{"turn", "turn:u:p@203.0.113.1:3478", "turn:203.0.113.1:3478", "u", "p"},
		{"turn", "turn:u:p@203.0.113.1:3478?transport=tcp", "turn:203.0.113.1:3478?transport=tcp", "u", "p"},
		{"turn", "turns:u:p@turn.example.org:5349?transport=tcp", "turns:turn.example.org:5349?transport=tcp", "u", "p"},
		{"turn", "turn:203.0.113.1:3478", "turn:203.0.113.1:3478", "envuser", "envpass"},
		// A password may hold ":" and "@"; the host holds neither.
		{"turn", "turn:u:p:a@ss@203.0.113.1:3478", "turn:203.0.113.1:3478", "u", "p:a@ss"},
	}
	for _, c := range cases {
		srv, err := iceServer(c.raw, c.flag, "envuser", "envpass")
		if err != nil {
			t.Errorf("--%s %s: %v", c.flag, c.raw, err)
			continue
		}
		cred, _ := srv.Credential.(string)
		if !slices.Equal(srv.URLs, []string{c.url}) || srv.Username != c.user || cred != c.cred {
			t.Errorf("--%s %s: got %q user %q password %q, want %q user %q password %q", c.flag, c.raw, srv.URLs, srv.Username, cred, c.url, c.user, c.cred)
		}
	}

	for _, c := range []struct{ flag, raw string }{
		{"stun", "turn:u:p@203.0.113.1:3478"},                // wrong scheme
		{"turn", "stun:203.0.113.1:3478"},                    // wrong scheme
		{"turn", "turn:u:p@203.0.113.1:3478?transport=sctp"}, // no such transport
		{"turn", "203.0.113.1:3478"},                         // no scheme
	} {
		if _, err := iceServer(c.raw, c.flag, "", ""); err == nil {
			t.Errorf("--%s %s: accepted", c.flag, c.raw)
		}
	}
}

// TestICEServerNoCredentials: a TURN URL without credentials, with none
// given apart either, is a usage mistake.
func TestICEServerNoCredentials(t *testing.T) {
	if _, err := iceServer("turn:203.0.113.1:3478", "turn", "", ""); err == nil {
		t.Error("a TURN server without credentials was accepted")
	}
}

// TestParseSize: --max-size takes bytes or K, M, G, T (powers of 1024),
// in the spellings people write.
func TestParseSize(t *testing.T) {
	for text, want := range map[string]int64{
		"0": 0, "1000": 1000, "10B": 10, "4K": 4 << 10, "4k": 4 << 10, "4KiB": 4 << 10,
		"500M": 500 << 20, "500MB": 500 << 20, "500 MiB": 500 << 20, "1.5G": 3 << 29, "2T": 2 << 40,
	} {
		if got, err := parseSize("max-size", text); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	for _, text := range []string{"", "M", "-1", "1e3", "0x10", "12Q", "5 GB extra", "inf", "1.2.3", "99999999T"} {
		if got, err := parseSize("max-size", text); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", text, got)
		}
	}
}
