package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Config is what `reehub login` stores: the server and a personal API token.
type Config struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	// TokenID is the token's id on the server, so that `reehub logout` can revoke it.
	TokenID int64 `json:"token_id,omitempty"`
	// User is the name the token belongs to, for messages.
	User string `json:"user,omitempty"`
}

// configPath is $REEHUB_CONFIG, else reehub/config.json in the user's config
// directory ($XDG_CONFIG_HOME or ~/.config).
func (c *app) configPath() (string, error) {
	if p := c.Getenv("REEHUB_CONFIG"); p != "" {
		return p, nil
	}
	dir := c.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := c.Getenv("HOME")
		if home == "" {
			var err error
			if home, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("find the config directory: %w", err)
			}
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "reehub", "config.json"), nil
}

// loadConfig reads the stored config; a missing file is an empty config.
func (c *app) loadConfig() (Config, error) {
	var cfg Config
	path, err := c.configPath()
	if err != nil {
		return cfg, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("read %s: %w", path, err)
	}
	return cfg, nil
}

// saveConfig writes cfg readable by the user only (0600, its directory 0700),
// replacing the file atomically.
func (c *app) saveConfig(cfg Config) (string, error) {
	path, err := c.configPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create the config directory: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return "", fmt.Errorf("write the config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write the config: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write the config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write the config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write the config: %w", err)
	}
	return path, nil
}
