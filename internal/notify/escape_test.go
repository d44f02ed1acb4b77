package notify

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

func TestEscapeChat(t *testing.T) {
	for in, want := range map[string]string{
		"<!channel> hi":                   "&lt;!channel&gt; hi",
		"<https://evil|click>":            "&lt;https://evil|click&gt;",
		"<@U123> & co":                    "&lt;@\u200bU123&gt; &amp; co",
		"@here and @channel, (@all)":      "@\u200bhere and @\u200bchannel, (@\u200ball)",
		"[click](https://evil)":           `[click]\(https://evil)`,
		"[x]: https://evil":               `[x]\: https://evil`,
		"ann@dtaa.com o'neil@x.io":        "ann@dtaa.com o'neil@x.io",
		"[Tango] 1 new task(s): Zoë (E1)": "[Tango] 1 new task(s): Zoë (E1)",
		"&amp;":                           "&amp;amp;",
		"a @ b":                           "a @ b",
	} {
		if got := EscapeChat(in); got != want {
			t.Errorf("EscapeChat(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChatEscapesHRValues: a display name from the HR feed that holds chat
// markup (<!channel>, a hidden link, @here) reaches the chat webhook
// escaped; the e-mail keeps it as written.
func TestChatEscapesHRValues(t *testing.T) {
	f := newFixture(t, testenv.SMTPOptions{Auth: true, TLS: true}, config.SMTPStartTLS)
	cfg := config.Default()
	cfg.Notifications = f.cfg
	p := NewPlanner(f.st, cfg)
	name := "<!channel> <https://evil|click> @here [click](https://evil)"
	per := &store.Person{EmployeeID: "E1", DisplayName: name}
	c := store.Case{Kind: store.CaseLeaver, Person: "E1", Source: "hris", Effective: f.clk.Now()}
	ns, err := p.Opened(context.Background(), c, per, []store.CaseTask{{Kind: store.TaskHuman, Team: "it", Title: "Collect the laptop", EvidenceKind: "text"}})
	if err != nil || len(ns) != 2 {
		t.Fatalf("Opened = %d notifications, %v; want an e-mail and a chat message", len(ns), err)
	}
	f.queue(t, ns...)
	f.drain(t)
	chats := f.chat.messages()
	if len(chats) != 1 {
		t.Fatalf("%d chat messages, want 1", len(chats))
	}
	text := chats[0].Text
	for _, raw := range []string{"<!channel>", "<https://evil|click>", "@here", "](https://evil)"} {
		if strings.Contains(text, raw) {
			t.Errorf("the chat message holds %q unescaped: %q", raw, text)
		}
	}
	if !strings.Contains(text, "&lt;!channel&gt; &lt;https://evil|click&gt; @\u200bhere [click]\\(https://evil)") {
		t.Errorf("the chat message does not show the name escaped: %q", text)
	}
	ms := f.smtp.WaitMessages(t, 1, 10*time.Second)
	if _, body := decodeBody(t, ms[0].Raw); !strings.Contains(body, name) {
		t.Errorf("the e-mail does not show the name as written: %q", body)
	}
}

// FuzzEscapeChat: escaped text holds no < or >, no Markdown link "](" or
// definition "]:", and no @ that starts a word before a letter or digit.
func FuzzEscapeChat(f *testing.F) {
	for _, s := range []string{"<!channel>", "[a](b)", "@here", "x@y.z", "&lt;", "]]((", "@@a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapeChat(s)
		if strings.ContainsAny(e, "<>") || strings.Contains(e, "](") || strings.Contains(e, "]:") {
			t.Fatalf("EscapeChat(%q) = %q", s, e)
		}
		for i := 0; i < len(e); i++ {
			if e[i] != '@' {
				continue
			}
			prev, _ := utf8.DecodeLastRuneInString(e[:i])
			next, _ := utf8.DecodeRuneInString(e[i+1:])
			if (i == 0 || !wordRune(prev)) && (unicode.IsLetter(next) || unicode.IsDigit(next)) {
				t.Fatalf("EscapeChat(%q) = %q: a live @ at %d", s, e, i)
			}
		}
	})
}
