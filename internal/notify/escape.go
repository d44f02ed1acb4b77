package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeChat makes text show as written in a chat tool's incoming webhook,
// whatever it holds: HR data (display names, titles, task details) must
// not ping a channel, hide a link or format the message. Tango's own
// words use no chat markup, so the whole message is escaped.
//
//   - & < > become &amp; &lt; &gt; (Slack's escaping; Markdown renderers,
//     as in Mattermost, Rocket.Chat and Teams, show the entities as the
//     characters). This defuses Slack's <!channel>, <!here>, <@U123>,
//     <https://evil|click> and Markdown autolinks and HTML.
//   - A Markdown link's "](" and a link definition's "]:" get a backslash
//     after the "]" ("[click]\(https://evil)"), so no text hides a URL.
//   - An @ that starts a word ("@here", "@channel", "@all", "@someone")
//     gets a zero-width space after it, so Mattermost and Rocket.Chat
//     ping no one; an e-mail address (ann@dtaa.com) is left alone.
func EscapeChat(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	prev := rune(-1) // the previous rune; -1 at the start
	for i, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case ']':
			b.WriteRune(r)
			if i+1 < len(s) && (s[i+1] == '(' || s[i+1] == ':') {
				b.WriteByte('\\')
			}
		case '@':
			b.WriteRune(r)
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if !wordRune(prev) && (unicode.IsLetter(next) || unicode.IsDigit(next)) {
				b.WriteRune('\u200b')
			}
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// wordRune tells whether r can come just before the @ of an e-mail address.
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+%'", r)
}
