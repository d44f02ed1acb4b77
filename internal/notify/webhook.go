package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// PostChat posts text to a chat webhook. The URL holds a secret: errors
// name the webhook by `name` (its config key) and never show the URL.
func PostChat(ctx context.Context, client *http.Client, name, rawURL, text string) error {
	body, _ := json.Marshal(Chat{Text: text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return permanentError{fmt.Errorf("%s: not a usable URL", name)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tango-notify")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error's text holds the URL
		}
		return fmt.Errorf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s: HTTP %d", name, resp.StatusCode)
	switch {
	case httpclient.Retryable(resp.StatusCode) || resp.StatusCode == http.StatusRequestTimeout:
		if s := httpclient.RetryAfter(resp.Header.Get("Retry-After")); s > 0 {
			return retryAfterError{err, time.Duration(s) * time.Second}
		}
		return err
	default:
		return permanentError{err} // 4xx: the URL or the body is wrong; trying again will not help
	}
}
