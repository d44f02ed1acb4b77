package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tango-iga/tango/internal/httpclient"
)

// Chat is the JSON body a chat webhook receives: Slack, Mattermost,
// Rocket.Chat, Microsoft Teams and Google Chat incoming webhooks all take
// {"text": …}.
type Chat struct {
	Text string `json:"text"`
}

// retryAfterError carries a server's Retry-After.
type retryAfterError struct {
	error
	after time.Duration
}

func (e retryAfterError) Unwrap() error { return e.error }

// PostChat posts text to a chat webhook, once: the outbox worker retries
// (with its own backoff, see Worker), so it asks httpclient.Do for no
// retry. The URL holds a secret: errors name the webhook by `name` (its
// config key) and never show the URL.
func PostChat(ctx context.Context, client *http.Client, name, rawURL, text string) error {
	body, _ := json.Marshal(Chat{Text: text})
	resp, err := httpclient.Do(ctx, client, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
		if err != nil {
			return nil, permanentError{fmt.Errorf("%s: not a usable URL", name)}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "tango-notify")
		return req, nil
	}, httpclient.Policy{MaxBody: 64 << 10, Redactor: httpclient.NewRedactor(rawURL)})
	if err != nil {
		var e *httpclient.Error
		switch {
		case !errors.As(err, &e):
			return err // the request's own
		case !e.Read:
			return fmt.Errorf("%s: %v", name, e.Err) // without the URL
		}
		// An unreadable answer (the body is discarded anyway): its status
		// still says how it went.
		resp = &httpclient.Response{Status: e.Status, Header: e.Header}
	}
	status := resp.Status
	if status/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s: HTTP %d", name, status)
	switch {
	case httpclient.Retryable(status) || status == http.StatusRequestTimeout:
		if s := resp.RetryAfter(); s > 0 {
			return retryAfterError{err, time.Duration(s) * time.Second}
		}
		return err
	default:
		return permanentError{err} // 4xx: the URL or the body is wrong; trying again will not help
	}
}
