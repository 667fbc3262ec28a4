package server

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/reehub/reehub/gen/api"
	"github.com/reehub/reehub/service/auth"
)

// studioKeyName names the personal token GET /user/show_api_key issues.
const studioKeyName = "studio"

// StudioShowApiKey issues the user's Studio API key (a personal token named
// "studio", replacing the previous one) and shows it in Studio's HTML page.
func (s *Server) StudioShowApiKey(ctx context.Context, _ api.StudioShowApiKeyRequestObject) (api.StudioShowApiKeyResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	toks, err := s.auth.Tokens(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if t.Name == studioKeyName {
			if err := s.auth.DeleteToken(ctx, p, t.ID); err != nil {
				return nil, fmt.Errorf("replace the studio key: %w", err)
			}
		}
	}
	_, secret, err := s.auth.CreateToken(ctx, p, auth.NewToken{Name: studioKeyName, Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, ExpiresIn: 365 * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	page := "<html><head><title>API key</title></head><body><p>Your API key (use it as the password with your user name " +
		html.EscapeString(p.User.Name) + "): <span class=\"studio:api_key\">" + html.EscapeString(secret) + "</span></p></body></html>\n"
	return api.StudioShowApiKey200TexthtmlResponse{Body: strings.NewReader(page), ContentLength: int64(len(page))}, nil
}

// StudioApiVersion answers the API version, 1.0.
func (s *Server) StudioApiVersion(ctx context.Context, _ api.StudioApiVersionRequestObject) (api.StudioApiVersionResponseObject, error) {
	return replyApiVersion(ctx, xmlAPIVersion{Version: "1.0"})
}

// StudioAccountShow shows the authenticated account.
func (s *Server) StudioAccountShow(ctx context.Context, _ api.StudioAccountShowRequestObject) (api.StudioAccountShowResponseObject, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := s.auth.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	q, err := s.studio.Quota(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	display := acc.FullName
	if display == "" {
		display = acc.Name
	}
	return replyAccountShow(ctx, xmlAccount{Username: acc.Name, Displayname: display, Email: acc.Email,
		CreatedAt: acc.CreatedAt.UTC().Format(studioTime), OpenIDURLs: openIDs{},
		DiskQuota: xmlQuota{Available: q.Available, Used: q.Used}})
}
