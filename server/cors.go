package server

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// cors answers browsers of the configured origins (Config.CORSOrigins), such
// as the ViCE web UI served from another origin: preflights (OPTIONS with
// Access-Control-Request-Method) are answered without authentication, and
// responses to those origins carry Access-Control-Allow-Origin. Other
// origins get no CORS headers, so their browsers refuse the answers.
func (s *Server) cors() gin.HandlerFunc {
	any := slices.Contains(s.cfg.CORSOrigins, "*")
	return func(c *gin.Context) {
		origin := c.Request.Header.Get("Origin")
		if origin == "" || (!any && !slices.Contains(s.cfg.CORSOrigins, origin)) {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Disposition, ETag, WWW-Authenticate")
		if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Range, If-None-Match")
			h.Set("Access-Control-Max-Age", "1000")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
