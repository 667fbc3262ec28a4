package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/reehub/reehub/gen/client"
)

func (c *app) loginCommand() *cobra.Command {
	var username, name string
	var passwordStdin bool
	var days int
	var scopes []string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Store a server URL and a personal API token for the other commands",
		Long: "With a user name and password, creates a personal API token on the server (POST /api/auth/tokens)\n" +
			"and stores it with the server URL in the user's config directory (reehub/config.json, mode 0600).\n" +
			"With --token, checks the given token and stores it. The password is read from --password-stdin,\n" +
			"$REEHUB_PASSWORD, or a prompt on a terminal; it is never stored.",
		Args: UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.validateOutput(); err != nil {
				return err
			}
			ctx := cmd.Context()
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			server, err := c.resolveServer(cfg)
			if err != nil {
				return err
			}
			token := c.flags.token
			if token == "" {
				token = c.Getenv("REEHUB_TOKEN")
			}
			var saved Config
			if token != "" {
				saved, err = c.checkToken(ctx, server, token)
			} else {
				saved, err = c.createToken(ctx, server, username, passwordStdin, name, days, scopes)
			}
			if err != nil {
				return err
			}
			path, err := c.saveConfig(saved)
			if err != nil {
				return err
			}
			out := struct {
				Server string `json:"server"`
				User   string `json:"user"`
				Config string `json:"config"`
			}{saved.Server, saved.User, path}
			return c.print(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "logged in to %s as %s (token stored in %s)\n", saved.Server, saved.User, path)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&username, "username", "u", "", "user name (default: $REEHUB_USERNAME, or a prompt)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&name, "token-name", "", "name of the new token (default: reehub-cli@HOST)")
	f.IntVar(&days, "expires-days", 90, "lifetime of the new token in days")
	f.StringSliceVar(&scopes, "scope", []string{"read", "write"}, "scopes of the new token (read, write, admin)")
	return cmd
}

// checkToken verifies token against the server and returns the config to store.
func (c *app) checkToken(ctx context.Context, server, token string) (Config, error) {
	s, err := newSession(server, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
	if err != nil {
		return Config{}, err
	}
	resp, err := s.api.AccountMeWithResponse(ctx)
	if err := s.check(ctx, "check the token", err, resp, http.StatusOK); err != nil {
		return Config{}, err
	}
	return Config{Server: server, Token: token, User: resp.JSON200.Name}, nil
}

// createToken logs in with a password and creates a personal token.
func (c *app) createToken(ctx context.Context, server, username string, passwordStdin bool, name string, days int, scopes []string) (Config, error) {
	if username == "" {
		username = c.Getenv("REEHUB_USERNAME")
	}
	if username == "" {
		if !c.stdinIsTerminal() {
			return Config{}, Usage(errors.New("--username is required (or --token)"))
		}
		fmt.Fprint(c.Stderr, "username: ")
		line, err := bufio.NewReader(c.Stdin).ReadString('\n')
		if err != nil {
			return Config{}, Usage(fmt.Errorf("read the user name: %w", err))
		}
		username = strings.TrimSpace(line)
	}
	password, err := c.readPassword(passwordStdin)
	if err != nil {
		return Config{}, err
	}
	if name == "" {
		host, _ := os.Hostname()
		name = "reehub-cli@" + host
	}
	s, err := newSession(server, func(_ context.Context, req *http.Request) error {
		req.SetBasicAuth(username, password)
		return nil
	})
	if err != nil {
		return Config{}, err
	}
	body := client.AccountNewToken{Name: name, ExpiresInDays: &days}
	for _, sc := range scopes {
		body.Scopes = append(body.Scopes, client.AccountScope(sc))
	}
	resp, err := s.api.AccountCreateTokenWithResponse(ctx, body)
	if err := s.check(ctx, "login", err, resp, http.StatusCreated); err != nil {
		return Config{}, err
	}
	return Config{Server: server, Token: resp.JSON201.Token, TokenID: resp.JSON201.Id, User: username}, nil
}

// readPassword reads the password from stdin's first line, $REEHUB_PASSWORD,
// or a prompt without echo on a terminal.
func (c *app) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(c.Stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", Usage(fmt.Errorf("read the password from stdin: %w", err))
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if p := c.Getenv("REEHUB_PASSWORD"); p != "" {
		return p, nil
	}
	f, ok := c.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", Usage(errors.New("no password: use --password-stdin, REEHUB_PASSWORD or a terminal"))
	}
	fmt.Fprint(c.Stderr, "password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.Stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return string(b), nil
}

func (c *app) stdinIsTerminal() bool {
	f, ok := c.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the stored token on the server and forget it",
		Args:  UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Token == "" {
				c.note("not logged in")
				return nil
			}
			if cfg.TokenID != 0 {
				s, err := newSession(cfg.Server, func(_ context.Context, req *http.Request) error {
					req.Header.Set("Authorization", "Bearer "+cfg.Token)
					return nil
				})
				if err != nil {
					return err
				}
				ctx := cmd.Context()
				resp, err := s.api.AccountDeleteTokenWithResponse(ctx, cfg.TokenID)
				// A token that is already gone or expired is forgotten all the same.
				if err := s.check(ctx, "revoke the token", err, resp, http.StatusNoContent, http.StatusNotFound, http.StatusUnauthorized); err != nil {
					return err
				}
			}
			if _, err := c.saveConfig(Config{Server: cfg.Server}); err != nil {
				return err
			}
			c.note("logged out of %s", cfg.Server)
			return nil
		},
	}
}
