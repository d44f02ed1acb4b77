package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
)

// Mailer sends e-mail through the configured SMTP server with the
// standard library's net/smtp: STARTTLS when offered (required before
// credentials are sent, or always with tls: required), implicit TLS with
// tls: implicit, AUTH PLAIN when a username is configured.
type Mailer struct {
	cfg  config.SMTP
	tls  *tls.Config
	host string // for Message-ID
}

// NewMailer checks the SMTP settings (reading ca_file) and makes a Mailer.
func NewMailer(cfg config.SMTP) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("notifications.smtp.host is not set")
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notifications.smtp.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("notifications.smtp.ca_file %s: no PEM certificate in it", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	host := "tango.invalid"
	if a, err := mail.ParseAddress(cfg.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			host = d
		}
	}
	return &Mailer{cfg: cfg, tls: tc, host: host}, nil
}

// Message is one e-mail.
type Message struct {
	ID      string // unique; becomes the Message-ID, so a retried message is recognisably the same
	To      string
	Subject string
	Body    string // plain text
	Date    time.Time
}

// permanentError is a failure retrying cannot fix (a 5xx reply to the
// recipient or the data).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent reports whether err will not go away by trying again.
func Permanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Send delivers one message. Errors say which step failed and the
// server's reply; they never hold the password.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	c := m.cfg
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if c.TLS == config.SMTPImplicit {
		tc := tls.Client(conn, m.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp %s: TLS: %w", addr, err)
		}
		conn = tc
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return fmt.Errorf("smtp %s: greeting: %w", addr, err)
	}
	defer cl.Close()
	if err := cl.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp %s: EHLO: %w", addr, err)
	}
	if c.TLS == config.SMTPStartTLS || c.TLS == config.SMTPRequired {
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(m.tls); err != nil {
				return fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
			}
		} else if c.TLS == config.SMTPRequired || c.Username != "" {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS, and tls is %q with credentials %v: not sending in clear", addr, c.TLS, c.Username != "")
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("smtp %s: AUTH as %s: %w", addr, c.Username, err)
		}
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return permanentError{fmt.Errorf("notifications.smtp.from: %w", err)}
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return permanentError{fmt.Errorf("recipient %q: %w", msg.To, err)}
	}
	if err := cl.Mail(from.Address); err != nil {
		return classify(fmt.Errorf("smtp %s: MAIL FROM %s: %w", addr, from.Address, err), err)
	}
	if err := cl.Rcpt(to.Address); err != nil {
		return classify(fmt.Errorf("smtp %s: RCPT TO %s: %w", addr, to.Address, err), err)
	}
	w, err := cl.Data()
	if err != nil {
		return classify(fmt.Errorf("smtp %s: DATA: %w", addr, err), err)
	}
	if _, err := w.Write(m.render(from, to, msg)); err != nil {
		return fmt.Errorf("smtp %s: writing the message: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return classify(fmt.Errorf("smtp %s: message refused: %w", addr, err), err)
	}
	_ = cl.Quit()
	return nil
}

// classify makes a 5xx reply (other than for authentication) permanent.
func classify(wrapped, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code != 530 && te.Code != 534 && te.Code != 535 {
		return permanentError{wrapped}
	}
	return wrapped
}

// render writes the message: plain text UTF-8, quoted-printable.
func (m *Mailer) render(from, to *mail.Address, msg Message) []byte {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	h("Date", msg.Date.Format(time.RFC1123Z))
	h("Message-ID", "<"+msg.ID+"@"+m.host+">")
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
